//! The parts of the engines test (`clickhouse_engines.rs`): its data, the
//! recording proxy, and what the record must cover.

pub mod coverage;
pub mod data;
pub mod recorder;
