//! `--partition k/n`: one shard of the planned trials, so a run spreads over CI machines.
//! Trial `i` of the plan (counting from 0) goes to shard `i mod n + 1`, as nextest's
//! `count:k/n`: the shards are disjoint, cover the plan, and differ in size by one at most.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (1-based: `1/2` and `2/2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub index: usize,
    pub count: usize,
}

/// A `--partition` value that is not `k/n` with 1 ≤ k ≤ n.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PartitionError(String);

impl FromStr for Partition {
    type Err = PartitionError;

    /// `k/n` (or nextest's `count:k/n`) with 1 ≤ k ≤ n.
    fn from_str(s: &str) -> Result<Partition, PartitionError> {
        Partition::parse(s).map_err(PartitionError)
    }
}

impl Partition {
    fn parse(s: &str) -> Result<Partition, String> {
        let spec = s.strip_prefix("count:").unwrap_or(s);
        let (k, n) = spec
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: give the shard as k/n, e.g. 1/3"))?;
        let number = |part: &str| {
            part.trim()
                .parse::<usize>()
                .map_err(|e| format!("`{s}`: `{part}` is not a count: {e}"))
        };
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 || index == 0 || index > count {
            return Err(format!("`{s}`: k/n needs 1 <= k <= n"));
        }
        Ok(Partition { index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Partition {
    /// Whether the trial at `position` in the plan is in this shard.
    pub fn takes(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

/// The items of `planned` in `partition` (all of them without one), in plan order.
pub fn shard<T>(planned: Vec<T>, partition: Option<Partition>) -> Vec<T> {
    let Some(p) = partition else {
        return planned;
    };
    planned
        .into_iter()
        .enumerate()
        .filter(|(i, _)| p.takes(*i))
        .map(|(_, t)| t)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_and_cover_the_plan() {
        for total in [0usize, 1, 2, 7, 145] {
            for count in 1..=5 {
                let plan: Vec<usize> = (0..total).collect();
                let mut seen = Vec::new();
                for index in 1..=count {
                    let part = shard(plan.clone(), Some(Partition { index, count }));
                    assert!(part.windows(2).all(|w| w[0] < w[1]), "plan order");
                    let expected = total / count + usize::from(index - 1 < total % count);
                    assert_eq!(part.len(), expected, "{index}/{count} of {total}");
                    seen.extend(part);
                }
                seen.sort_unstable();
                assert_eq!(
                    seen, plan,
                    "the shards of {count} cover {total} exactly once"
                );
            }
        }
        assert_eq!(shard(vec![1, 2, 3], None), vec![1, 2, 3]);
        assert_eq!(shard(vec![0, 1, 2, 3, 4], "2/2".parse().ok()), vec![1, 3]);
    }

    #[test]
    fn parses_k_of_n_and_refuses_the_rest() {
        assert_eq!("2/3".parse(), Ok(Partition { index: 2, count: 3 }));
        assert_eq!("count:1/2".parse(), Ok(Partition { index: 1, count: 2 }));
        assert_eq!(Partition { index: 2, count: 3 }.to_string(), "2/3");
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "1/2/3", ""] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}
