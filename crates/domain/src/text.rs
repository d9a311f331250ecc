//! Small text helpers shared by the value types.

/// Length in Unicode scalar values, the unit of every length rule in the contract.
pub(crate) fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// U+0000 is refused in every string the service stores.
pub(crate) fn has_nul(text: &str) -> bool {
    text.contains('\0')
}
