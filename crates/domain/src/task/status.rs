//! Where a task is in its life, and how important it is.

use std::fmt;
use std::str::FromStr;

use crate::error::UnknownValue;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TaskStatus {
    Pending,
    Completed,
}

impl TaskStatus {
    pub const ALL: [Self; 2] = [Self::Pending, Self::Completed];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Completed => "Completed",
        }
    }
}

impl FromStr for TaskStatus {
    type Err = UnknownValue;

    /// Exactly `Pending` or `Completed`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "Pending" => Ok(Self::Pending),
            "Completed" => Ok(Self::Completed),
            _ => Err(UnknownValue { allowed: "Pending, Completed" }),
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How important a task is. Ordered `Low < Medium < High`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "lowercase"))]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    pub const ALL: [Self; 3] = [Self::Low, Self::Medium, Self::High];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// 0, 1, 2: the stored form, ordered like the priorities.
    #[must_use]
    pub const fn rank(self) -> i16 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
        }
    }

    #[must_use]
    pub const fn from_rank(rank: i16) -> Option<Self> {
        match rank {
            0 => Some(Self::Low),
            1 => Some(Self::Medium),
            2 => Some(Self::High),
            _ => None,
        }
    }
}

impl FromStr for Priority {
    type Err = UnknownValue;

    /// Exactly `low`, `medium` or `high`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.as_str() == text).ok_or(UnknownValue { allowed: "low, medium, high" })
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_priority_accept_only_their_exact_spellings() {
        assert_eq!("Pending".parse(), Ok(TaskStatus::Pending));
        assert_eq!("Completed".parse(), Ok(TaskStatus::Completed));
        assert!("pending".parse::<TaskStatus>().is_err());
        assert_eq!("high".parse(), Ok(Priority::High));
        assert!("High".parse::<Priority>().is_err());
        assert!("".parse::<Priority>().is_err());
    }

    #[test]
    fn priority_ranks_round_trip_in_order() {
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(p));
        }
        assert!(Priority::Low < Priority::Medium && Priority::Medium < Priority::High);
        assert_eq!(Priority::default(), Priority::Medium);
    }
}
