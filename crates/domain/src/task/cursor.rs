//! Opaque paging cursors: a keyset position bound to the query that produced it.
//!
//! A cursor is base64url of `version | fingerprint | id | key | value`. The fingerprint
//! hashes the filter and order, so a cursor reused with another query is refused
//! instead of silently paging through the wrong result. It is not a secret: whatever
//! a client forges, the repository still only ever reads that client's own tasks.

use uuid::Uuid;

use super::{Priority, TaskId};
use super::{SortKey, SortPosition, SortValue, TaskFilter, TaskOrder};
use crate::Timestamp;

const VERSION: u8 = 1;

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("is not a cursor of this API")]
    Malformed,
    #[error("belongs to a different query (sort, order or filter changed)")]
    OtherQuery,
}

/// A stable 64-bit digest of everything that decides which tasks come in which order.
#[must_use]
pub fn fingerprint(filter: &TaskFilter, order: &TaskOrder) -> u64 {
    let mut hash = Fnv::new();
    let TaskFilter { status, search, priorities, tags, due_after, due_before, overdue_at } = filter;
    hash.field(status.map_or("", |s| s.as_str()).as_bytes());
    hash.field(search.as_ref().map_or("", |s| s.as_str()).as_bytes());
    for priority in priorities {
        hash.field(priority.as_str().as_bytes());
    }
    hash.field(b"tags");
    for tag in tags {
        hash.field(tag.as_str().as_bytes());
    }
    hash.field(&due_after.map_or(i64::MIN, Timestamp::micros).to_be_bytes());
    hash.field(&due_before.map_or(i64::MIN, Timestamp::micros).to_be_bytes());
    // Overdue filters compare with "now", which moves between pages: only the switch counts.
    hash.field(&[u8::from(overdue_at.is_some())]);
    hash.field(order.key.as_str().as_bytes());
    hash.field(order.direction.as_str().as_bytes());
    hash.finish()
}

/// Encodes `position` as a cursor for the query with this fingerprint.
#[must_use]
pub fn encode(fingerprint: u64, position: &SortPosition) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.push(VERSION);
    bytes.extend_from_slice(&fingerprint.to_be_bytes());
    bytes.extend_from_slice(position.id.as_uuid().as_bytes());
    bytes.push(key_tag(position.value.key()));
    match &position.value {
        SortValue::CreatedAt(at) | SortValue::UpdatedAt(at) | SortValue::DueAt(Some(at)) => {
            bytes.extend_from_slice(&at.micros().to_be_bytes());
        }
        SortValue::DueAt(None) => {}
        SortValue::Priority(priority) => bytes.push(priority.rank().to_be_bytes()[1]),
        SortValue::Title(title) => bytes.extend_from_slice(title.as_bytes()),
    }
    base64url::encode(&bytes)
}

/// Decodes a cursor made by [`encode`] for a query with `expected` fingerprint.
pub fn decode(cursor: &str, expected: u64, order: &TaskOrder) -> Result<SortPosition, CursorError> {
    let bytes = base64url::decode(cursor).ok_or(CursorError::Malformed)?;
    let (&version, rest) = bytes.split_first().ok_or(CursorError::Malformed)?;
    if version != VERSION || rest.len() < 8 + 16 + 1 {
        return Err(CursorError::Malformed);
    }
    let (fingerprint, rest) = rest.split_at(8);
    let (id, rest) = rest.split_at(16);
    let (&tag, value) = rest.split_first().ok_or(CursorError::Malformed)?;
    let key = tag_key(tag).ok_or(CursorError::Malformed)?;
    let value = decode_value(key, value).ok_or(CursorError::Malformed)?;
    let id = TaskId::from_uuid(Uuid::from_slice(id).map_err(|_| CursorError::Malformed)?);
    if u64::from_be_bytes(fingerprint.try_into().map_err(|_| CursorError::Malformed)?) != expected || key != order.key {
        return Err(CursorError::OtherQuery);
    }
    Ok(SortPosition { value, id })
}

fn decode_value(key: SortKey, bytes: &[u8]) -> Option<SortValue> {
    let timestamp = |bytes: &[u8]| Timestamp::from_micros(i64::from_be_bytes(bytes.try_into().ok()?)).ok();
    Some(match key {
        SortKey::CreatedAt => SortValue::CreatedAt(timestamp(bytes)?),
        SortKey::UpdatedAt => SortValue::UpdatedAt(timestamp(bytes)?),
        SortKey::DueAt if bytes.is_empty() => SortValue::DueAt(None),
        SortKey::DueAt => SortValue::DueAt(Some(timestamp(bytes)?)),
        SortKey::Priority => match bytes {
            [rank] => SortValue::Priority(Priority::from_rank(i16::from(*rank))?),
            _ => return None,
        },
        SortKey::Title => SortValue::Title(String::from_utf8(bytes.to_vec()).ok()?),
    })
}

const fn key_tag(key: SortKey) -> u8 {
    match key {
        SortKey::CreatedAt => 1,
        SortKey::UpdatedAt => 2,
        SortKey::DueAt => 3,
        SortKey::Priority => 4,
        SortKey::Title => 5,
    }
}

fn tag_key(tag: u8) -> Option<SortKey> {
    SortKey::ALL.into_iter().find(|&key| key_tag(key) == tag)
}

/// 64-bit FNV-1a with length-prefixed fields, so that ("ab", "c") and ("a", "bc") differ.
struct Fnv(u64);

impl Fnv {
    const fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn field(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_be_bytes());
        self.bytes(bytes);
    }

    const fn finish(&self) -> u64 {
        self.0
    }
}

/// Unpadded base64url (RFC 4648 §5), strict on input: no padding, no other alphabet,
/// no non-zero trailing bits (each cursor has one spelling).
mod base64url {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    pub(super) fn encode(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(text).ok()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips_every_length() {
            let data: Vec<u8> = (0..=255).collect();
            for len in 0..data.len() {
                let text = encode(&data[..len]);
                assert_eq!(decode(&text).as_deref(), Some(&data[..len]), "{len}");
            }
        }

        #[test]
        fn matches_rfc_4648_vectors() {
            for (plain, encoded) in [
                ("", ""),
                ("f", "Zg"),
                ("fo", "Zm8"),
                ("foo", "Zm9v"),
                ("foob", "Zm9vYg"),
                ("fooba", "Zm9vYmE"),
                ("foobar", "Zm9vYmFy"),
            ] {
                assert_eq!(encode(plain.as_bytes()), encoded);
            }
            assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        }

        #[test]
        fn refuses_foreign_characters_padding_and_bad_lengths() {
            for bad in ["Zg==", "Z", "Zm9v+", "Zm9v/", "Zh", "ab c"] {
                assert_eq!(decode(bad), None, "{bad}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Direction;
    use crate::task::{Tag, TaskStatus};

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn every_kind_of_position_round_trips() {
        let id = TaskId::generate();
        for (key, value) in [
            (SortKey::CreatedAt, SortValue::CreatedAt(ts("2026-01-01T00:00:00.000001Z"))),
            (SortKey::UpdatedAt, SortValue::UpdatedAt(ts("1970-01-01T00:00:00Z"))),
            (SortKey::DueAt, SortValue::DueAt(Some(ts("1969-07-20T20:17:40Z")))),
            (SortKey::DueAt, SortValue::DueAt(None)),
            (SortKey::Priority, SortValue::Priority(Priority::High)),
            (SortKey::Title, SortValue::Title("äpfel & birnen".into())),
            (SortKey::Title, SortValue::Title(String::new())),
        ] {
            let order = TaskOrder::new(key, None);
            let position = SortPosition { value, id };
            let cursor = encode(42, &position);
            assert_eq!(decode(&cursor, 42, &order), Ok(position));
        }
    }

    #[test]
    fn a_cursor_of_another_query_is_refused() {
        let order = TaskOrder::new(SortKey::CreatedAt, None);
        let position = SortPosition { value: SortValue::CreatedAt(ts("2026-01-01T00:00:00Z")), id: TaskId::generate() };
        let all = TaskFilter::default();
        let pending = TaskFilter { status: Some(TaskStatus::Pending), ..TaskFilter::default() };
        let cursor = encode(fingerprint(&all, &order), &position);
        assert_eq!(decode(&cursor, fingerprint(&pending, &order), &order), Err(CursorError::OtherQuery));
        let ascending = TaskOrder::new(SortKey::CreatedAt, Some(Direction::Asc));
        assert_eq!(decode(&cursor, fingerprint(&all, &ascending), &ascending), Err(CursorError::OtherQuery));
    }

    #[test]
    fn fingerprints_tell_filters_apart() {
        let order = TaskOrder::default();
        let tagged = |tags: &[&str]| TaskFilter {
            tags: tags.iter().map(|t| Tag::parse(t).unwrap()).collect(),
            ..TaskFilter::default()
        };
        assert_ne!(fingerprint(&tagged(&["ab", "c"]), &order), fingerprint(&tagged(&["a", "bc"]), &order));
        assert_eq!(fingerprint(&tagged(&["a"]), &order), fingerprint(&tagged(&["a"]), &order));
        let now = TaskFilter { overdue_at: Some(ts("2026-01-01T00:00:00Z")), ..TaskFilter::default() };
        let later = TaskFilter { overdue_at: Some(ts("2026-01-02T00:00:00Z")), ..TaskFilter::default() };
        assert_eq!(fingerprint(&now, &order), fingerprint(&later, &order));
    }

    #[test]
    fn garbage_is_not_a_cursor() {
        let order = TaskOrder::default();
        for bad in ["", "abc", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
            assert_eq!(decode(bad, 0, &order), Err(CursorError::Malformed), "{bad}");
        }
    }
}
