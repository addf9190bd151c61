//! BOS v2 end to end: a real appliance, a fleet of SimBmcs and simulated netbooting nodes
//! (`rackboot::sim`). Sessions are created through the API and the tests wait for what a
//! user would wait for — the session completing — then check every node's state.

mod bad_input;
mod components;
mod contract_findings;
mod lab;
mod operations;
mod selection;
mod sessions_api;
mod tenants;

pub use lab::*;
