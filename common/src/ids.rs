//! Thin newtypes for the numbers Kafka keeps apart: log offsets, leader epochs, broker ids and
//! producer ids. Each is `Copy`, prints as its number, and converts to and from the wire's
//! integer with `From`/`Into` (and serializes as that integer), so adopting them costs nothing at the protocol edge.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// The wire value.
            pub const fn get(self) -> $inner {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                $name(v)
            }
        }

        impl From<$name> for $inner {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        /// Compares with a wire value (`leader == -1`), as `kafka_protocol`'s ids do.
        impl PartialEq<$inner> for $name {
            fn eq(&self, other: &$inner) -> bool {
                self.0 == *other
            }
        }
    };
}

id_newtype! {
    /// A position in a partition's log (Kafka: `long offset`); -1 means "none" on the wire.
    Offset(i64)
}

id_newtype! {
    /// A partition's leader epoch (Kafka: `int leaderEpoch`); -1 means unknown.
    LeaderEpoch(i32)
}

id_newtype! {
    /// A broker's `broker.id` / `node.id` (Kafka: `int brokerId`); -1 means none.
    BrokerId(i32)
}

id_newtype! {
    /// An idempotent producer's id (Kafka: `long producerId`); -1 means none.
    ProducerId(i64)
}

impl Offset {
    /// The wire's "no offset" (-1).
    pub const NONE: Offset = Offset(-1);
}

impl LeaderEpoch {
    /// The wire's "unknown epoch" (-1, Kafka's `RecordBatch.NO_PARTITION_LEADER_EPOCH`).
    pub const UNKNOWN: LeaderEpoch = LeaderEpoch(-1);

    /// The epoch a new leader election gives the partition (the controller bumps it by one on
    /// every leader change, `PartitionRegistration.leaderEpoch + 1`).
    pub const fn next(self) -> LeaderEpoch {
        LeaderEpoch(self.0.saturating_add(1))
    }
}

impl BrokerId {
    /// The wire's "no broker" (-1), e.g. a partition without a leader.
    pub const NONE: BrokerId = BrokerId(-1);

    /// Whether this is no broker: a negative id (`broker.id` must be at least 0; -1 on the wire
    /// is "none", e.g. a partition without a leader).
    pub const fn is_none(self) -> bool {
        self.0 < 0
    }
}

impl ProducerId {
    /// The wire's "no producer id" (-1, Kafka's `RecordBatch.NO_PRODUCER_ID`).
    pub const NONE: ProducerId = ProducerId(-1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newtypes_convert_and_print_as_their_number() {
        let o: Offset = 42i64.into();
        assert_eq!(i64::from(o), 42);
        assert_eq!(o.to_string(), "42");
        assert_eq!(BrokerId::from(3).get(), 3);
        assert_eq!(LeaderEpoch::UNKNOWN.to_string(), "-1");
        assert_eq!(ProducerId::NONE, ProducerId(-1));
        assert!(Offset(1) < Offset(2));
    }

    #[test]
    fn newtypes_serialize_as_the_plain_number_so_stored_json_reads_back() {
        // zookeeper-lite's journal and protocol held plain integers before the newtypes.
        assert_eq!(
            serde_json::to_string(&vec![BrokerId(1), BrokerId(-1)]).unwrap(),
            "[1,-1]"
        );
        let back: Vec<BrokerId> = serde_json::from_str("[0,2]").unwrap();
        assert_eq!(back, [BrokerId(0), BrokerId(2)]);
        assert!(BrokerId::NONE.is_none() && !BrokerId(0).is_none());
        assert_eq!(BrokerId(4), 4);
    }
}
