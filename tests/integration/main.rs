//! Integration tests: the real appliance on 127.0.0.1:0 with a temporary data directory,
//! driven over HTTP (and through the CLI binary), as a user or an existing client would.
//! One test binary, a module per area.

mod artifacts;
mod bmc_tls;
mod bos;
mod bos_v1;
mod bss;
mod bss_contract;
mod capmc;
mod cfs;
mod cfs_v2;
mod cli;
mod cli_bos;
mod cli_cfs;
mod cli_replay;
mod common;
mod console;
mod dhcp;
mod discovery;
mod every_tree;
mod faults;
mod hsm;
mod hsm_contract;
mod lab;
mod mockup;
mod mockup_peer;
mod netns;
mod openapi;
mod power;
mod power_vendors;
mod restart;
mod s3_peer;
mod security;
mod sim_bmcs;
mod sim_node;
mod sushy;
mod sushy_peer;
mod tftp;
