//! Where a task is in its life, and how important it is.

crate::words::words! {
    /// Where a task is in its life.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    pub enum TaskStatus {
        Pending = "Pending",
        Completed = "Completed",
    }
}

crate::words::words! {
    /// How important a task is. Ordered `Low < Medium < High`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "lowercase"))]
    pub enum Priority {
        Low = "low",
        #[default]
        Medium = "medium",
        High = "high",
    }
}

impl Priority {
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
