//! What every describe of the fake does with a service's records, in one place below the
//! services: the ids a filter names must exist, then the records the filter matches.

use detcloud_provider::{Error, Filter, Result, Tags};

/// Fails NotFound (`kind`) for the first id of `filter` that `exists` says is missing (it may
/// also refuse a malformed id first, as EC2 does).
pub(crate) fn check_filter_ids(
    filter: &Filter,
    kind: &'static str,
    exists: impl Fn(&str) -> Result<bool>,
) -> Result<()> {
    for id in &filter.ids {
        if !exists(id)? {
            return Err(Error::not_found(kind, id));
        }
    }
    Ok(())
}

/// A describe's answer: [`check_filter_ids`], then each record `filter` matches by its `key`
/// (id, tags and VPC), turned into what the provider returns by `out`.
pub(crate) fn select<'r, R: 'r, T>(
    records: impl IntoIterator<Item = &'r R>,
    filter: &Filter,
    kind: &'static str,
    exists: impl Fn(&str) -> Result<bool>,
    key: impl Fn(&R) -> (&str, &Tags, Option<&str>),
    out: impl FnMut(&R) -> T,
) -> Result<Vec<T>> {
    check_filter_ids(filter, kind, exists)?;
    Ok(records
        .into_iter()
        .filter(|r| {
            let (id, tags, vpc) = key(r);
            filter.matches(id, tags, vpc)
        })
        .map(out)
        .collect())
}
