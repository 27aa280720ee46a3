//! zookeeper-lite owns the cluster's metadata and acts as its controller: live brokers (sessions
//! kept alive by heartbeats), topics with their ids and config overrides, and partitions with
//! replicas, leader, leader epoch and ISR. It places replicas when topics are created and moves
//! leadership within the ISR when a broker's session expires. It also keeps consumer groups'
//! committed offsets, fenced by group generation. Every change to topics, partitions and offsets
//! is journaled and fsynced in `dataDir` before it is acknowledged, so `kill -9` and a restart
//! lose nothing that was answered. Brokers talk to it over a small framed-JSON protocol
//! (PROTOCOL.md) through [`client::ZkClient`].
//!
//! Layout: [`protocol`] (types and frame codec, no I/O), [`state`] (the pure state machine, split
//! into broker sessions, topics and placement, group offsets), [`journal`] (snapshot + journal on
//! disk), [`controller`] (the two glued together: Kafka's controller), [`server`] (TCP),
//! [`client`], [`embedded`] (an in-process server for other crates' tests), [`config`]
//! (`zookeeper.properties`) and [`metrics`] (the Prometheus `/metrics` endpoint, behind the
//! `http-listener` crate's connection cap and idle timeout). Log lines use `common::logging`'s
//! Kafka layout.

pub mod client;
pub mod config;
pub mod controller;
pub mod embedded;
pub mod journal;
pub mod metrics;
pub mod protocol;
pub mod server;
pub mod state;
