//! One module per command.

pub(crate) mod account;
pub(crate) mod cluster;
pub(crate) mod connect;
pub(crate) mod disconnect;
pub(crate) mod policy;
pub(crate) mod verify;
