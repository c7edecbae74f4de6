//! Build the module tree, resolve names and produce the code graph
