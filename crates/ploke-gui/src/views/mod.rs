//! One module per view. Each draws from the shared [`ploke_app::State`] and its own
//! UI-local state, and pushes the [`ploke_app::Action`]s the user asked for.

pub(crate) mod chat;
pub(crate) mod context;
pub(crate) mod graph;
pub(crate) mod item;
pub(crate) mod modules;
pub(crate) mod review;
pub(crate) mod search;
pub(crate) mod settings;
pub(crate) mod status;
