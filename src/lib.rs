pub mod app;
pub mod bootscript;
pub mod model;
pub mod store;
