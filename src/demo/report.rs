//! What a domain's demo part reports: the rows it wrote, and its progress.

/// What the demo wrote, or left alone, for one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub domain: &'static str,
    /// Rows written, by kind; empty when the domain's demo data was already there.
    pub rows: Vec<(&'static str, u64)>,
}

/// Reports progress: the domain, the step done and the number of steps.
pub type Progress<'a> = &'a mut dyn FnMut(&'static str, u64, u64);
