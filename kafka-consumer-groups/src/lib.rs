//! The parts of `kafka-consumer-groups` that other front ends share, so that the web console
//! means exactly what the tool means: the pure rules of `--reset-offsets` (`reset`) and the
//! rows and tables of `--describe` (`format`, whose `OffsetRow::lag` is the tool's LAG).

pub mod format;
pub mod reset;
