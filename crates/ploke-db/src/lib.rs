//! CozoDB store of the code graph: schema, batched writes, queries
