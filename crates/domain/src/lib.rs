#![doc = include_str!("../README.md")]

pub mod clock;
pub mod error;
mod id;
pub mod session;
pub mod task;
mod text;
pub mod time;
pub mod user;
mod words;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{DomainError, FieldError, RepoError, UnknownValue, ValidationErrors};
pub use time::Timestamp;

/// With `serde`, values deserialize through the same rules as `parse`: an invalid one
/// is an error, never a value that breaks them.
#[cfg(all(test, feature = "serde"))]
mod serde_tests {
    use serde_json::{from_str, json, to_value};

    use crate::Timestamp;
    use crate::task::{Priority, Recurrence, Tag, Tags, TaskId, TaskStatus, TaskTitle};
    use crate::user::{Email, UserName};

    #[test]
    fn values_deserialize_through_their_rules() {
        assert_eq!(from_str::<TaskTitle>(r#"" Buy milk ""#).unwrap().as_str(), "Buy milk");
        assert!(from_str::<TaskTitle>(r#""   ""#).is_err());
        assert!(from_str::<TaskTitle>(&format!("\"{}\"", "x".repeat(501))).is_err());
        assert_eq!(from_str::<Tag>(r#""Work""#).unwrap().as_str(), "work");
        assert!(from_str::<Tag>(r#""a,b""#).is_err());
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(serde_json::from_value::<Tags>(json!(eleven)).is_err());
        assert_eq!(from_str::<Email>(r#""  Ann@X.co ""#).unwrap().as_str(), "ann@x.co");
        assert!(from_str::<Email>(r#""not an address""#).is_err());
        assert!(from_str::<UserName>(r#""  ""#).is_err());
        assert!(from_str::<Timestamp>(r#""2026-01-03T10:15:30""#).is_err(), "a local time has no offset");
        assert!(from_str::<Priority>(r#""High""#).is_err());
    }

    #[test]
    fn values_serialize_as_the_contract_spells_them() {
        let id = TaskId::generate();
        assert_eq!(to_value(id).unwrap(), json!(id.to_string()));
        assert_eq!(to_value(Priority::High).unwrap(), json!("high"));
        assert_eq!(to_value(TaskStatus::Completed).unwrap(), json!("Completed"));
        assert_eq!(to_value(Recurrence::Monthly).unwrap(), json!("monthly"));
        let tags = Tags::new(["b", "A"].map(|t| Tag::parse(t).unwrap())).unwrap();
        assert_eq!(to_value(tags).unwrap(), json!(["a", "b"]));
    }
}
