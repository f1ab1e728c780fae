//! The role mining engine: the fewest roles (sets of permissions) such that every user's permissions are
//! exactly the union of the roles it is given (basic RMP: a minimum biclique cover of the user-permission
//! graph).
//!
//! The search follows the exact methods of the role-mining literature:
//! 1. users with the same permissions are one user, permissions held by the same users are one permission
//!    (neither changes the optimum);
//! 2. candidate roles are the closed permission sets: every non-empty intersection of users' permission
//!    sets (any role can be widened to the closed set with the same users, which covers more);
//! 3. a role covers the assignment (u, p) when it holds `p` and fits inside u's permissions; roles that are
//!    the only way (up to domination) to cover some uncovered assignment are taken first;
//! 4. the rest is an exact branch and bound over the candidates of the hardest assignment, bounded below by
//!    a fooling set (assignments no two of which any role covers together) and above by a greedy cover.
//!
//! When the bound meets the cover the answer is proven optimal; `Solution::optimal` says whether it was.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::bits::Bits;

/// A found set of roles and who gets which.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// Each role's permissions (indices into the input's permissions), sorted.
    pub roles: Vec<Vec<usize>>,
    /// Each user's roles (indices into `roles`), sorted; users without permissions get none.
    pub assignments: Vec<Vec<usize>>,
    /// Whether the role count is proven to be the minimum.
    pub optimal: bool,
    /// A proven lower bound on the role count.
    pub lower_bound: usize,
}

impl Solution {
    /// |UA| + |PA|: user-role plus role-permission assignments.
    pub fn edges(&self) -> usize {
        self.roles.iter().map(Vec::len).sum::<usize>() + self.assignments.iter().map(Vec::len).sum::<usize>()
    }
}

/// Limits of the search.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The most candidate roles enumerated; beyond it the answer is greedy (not proven).
    pub candidates: usize,
    /// Time for the exact search; when it runs out the best cover found is returned (not proven).
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { candidates: 2_000_000, time: Duration::from_secs(20) }
    }
}

/// The reduced problem: distinct users over classes of permissions.
struct Problem {
    /// Each distinct user's permission classes.
    rows: Vec<Bits>,
    /// The candidate roles (closed sets of classes) and the users each fits.
    intents: Vec<Bits>,
    fits: Vec<Bits>,
    /// For each class, the candidates holding it.
    holding: Vec<Vec<u32>>,
    classes: usize,
}

impl Problem {
    /// The assignments `candidate` covers that are still uncovered.
    fn gain(&self, candidate: usize, uncovered: &[Bits]) -> usize {
        self.fits[candidate].ones().map(|user| self.intents[candidate].and(&uncovered[user]).count()).sum()
    }

    /// Whether every uncovered assignment `a` covers, `b` covers too.
    fn dominated(&self, a: usize, b: usize, uncovered: &[Bits]) -> bool {
        self.fits[a].ones().all(|user| {
            let mine = self.intents[a].and(&uncovered[user]);
            mine.is_empty() || (self.fits[b].contains(user) && mine.is_subset(&self.intents[b]))
        })
    }

    /// The candidates that cover the uncovered assignment (user, class), without dominated ones.
    fn choices(&self, user: usize, class: usize, uncovered: &[Bits]) -> Vec<usize> {
        let mut all: Vec<usize> =
            self.holding[class].iter().map(|&it| it as usize).filter(|&it| self.fits[it].contains(user)).collect();
        all.sort_by_key(|&it| std::cmp::Reverse(self.gain(it, uncovered)));
        let mut kept: Vec<usize> = Vec::new();
        for candidate in all {
            if !kept.iter().any(|&other| self.dominated(candidate, other, uncovered)) {
                kept.push(candidate);
            }
        }
        kept
    }

    fn cover(&self, candidate: usize, uncovered: &mut [Bits]) {
        for user in self.fits[candidate].ones().collect::<Vec<_>>() {
            uncovered[user].and_not_assign(&self.intents[candidate]);
        }
    }

    /// Assignments no two of which one role covers (a fooling set): a lower bound on the roles still needed.
    /// (u, p) and (v, q) share a role exactly when u also holds q and v also holds p.
    fn fooling(&self, uncovered: &[Bits]) -> usize {
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        for (user, row) in uncovered.iter().enumerate() {
            for class in row.ones() {
                let alone = chosen
                    .iter()
                    .all(|&(other, theirs)| !self.rows[user].contains(theirs) || !self.rows[other].contains(class));
                if alone {
                    chosen.push((user, class));
                }
            }
        }
        chosen.len()
    }

    /// The uncovered assignment with the fewest choices, and those choices.
    fn hardest(&self, uncovered: &[Bits]) -> Option<(usize, usize, Vec<usize>)> {
        let mut best: Option<(usize, usize, Vec<usize>)> = None;
        for (user, row) in uncovered.iter().enumerate() {
            for class in row.ones() {
                let choices = self.choices(user, class, uncovered);
                if best.as_ref().is_none_or(|(_, _, it)| choices.len() < it.len()) {
                    let single = choices.len() <= 1;
                    best = Some((user, class, choices));
                    if single {
                        return best;
                    }
                }
            }
        }
        best
    }

    /// Takes every role that is the only undominated way to cover some assignment.
    fn forced(&self, uncovered: &mut [Bits], chosen: &mut Vec<usize>) {
        loop {
            let mut progress = false;
            for user in 0..uncovered.len() {
                let classes: Vec<usize> = uncovered[user].ones().collect();
                for class in classes {
                    if !uncovered[user].contains(class) {
                        continue;
                    }
                    let choices = self.choices(user, class, uncovered);
                    if let [only] = choices.as_slice() {
                        chosen.push(*only);
                        self.cover(*only, uncovered);
                        progress = true;
                    }
                }
            }
            if !progress {
                return;
            }
        }
    }

    /// A greedy cover, lazily: a candidate's gain only shrinks, so a stale gain is an upper bound and
    /// only the top of the heap is ever recomputed.
    fn greedy(&self, uncovered: &[Bits]) -> Vec<usize> {
        let mut uncovered = uncovered.to_vec();
        let mut heap: std::collections::BinaryHeap<(usize, std::cmp::Reverse<usize>)> =
            (0..self.intents.len()).map(|it| (self.gain(it, &uncovered), std::cmp::Reverse(it))).collect();
        let mut chosen = Vec::new();
        while let Some((stale, std::cmp::Reverse(id))) = heap.pop() {
            if stale == 0 {
                break;
            }
            let gain = self.gain(id, &uncovered);
            if heap.peek().is_some_and(|(next, _)| *next > gain) {
                heap.push((gain, std::cmp::Reverse(id)));
                continue;
            }
            if gain == 0 {
                continue;
            }
            chosen.push(id);
            self.cover(id, &mut uncovered);
        }
        chosen
    }
}

struct Search<'a> {
    problem: &'a Problem,
    best: Vec<usize>,
    deadline: Instant,
    timed_out: bool,
}

impl Search<'_> {
    fn run(&mut self, mut uncovered: Vec<Bits>, mut chosen: Vec<usize>) {
        if Instant::now() > self.deadline {
            self.timed_out = true;
            return;
        }
        self.problem.forced(&mut uncovered, &mut chosen);
        if chosen.len() >= self.best.len() {
            return;
        }
        let Some((_, _, choices)) = self.problem.hardest(&uncovered) else {
            self.best = chosen;
            return;
        };
        if chosen.len() + self.problem.fooling(&uncovered).max(1) >= self.best.len() {
            return;
        }
        for choice in choices {
            let mut next = uncovered.clone();
            self.problem.cover(choice, &mut next);
            let mut taken = chosen.clone();
            taken.push(choice);
            self.run(next, taken);
            if self.timed_out {
                return;
            }
        }
    }
}

/// Maps keyed by bit sets, with a fast hash.
type BitsMap<V> = HashMap<Bits, V, crate::lang::FxBuild>;

/// Solves one connected part exactly (or as well as the limits allow): the roles as sets of classes, whether
/// they are proven minimal, and a lower bound.
fn solve(reduced: &[Bits], classes: usize, limits: &Limits, deadline: Instant) -> (Vec<Bits>, bool, usize) {
    // Candidates may take half of what is left; the search and the greedy cover need the rest.
    let enumeration_deadline = Instant::now() + deadline.saturating_duration_since(Instant::now()) / 2;
    // Which users hold each class, to intersect a candidate only with the rows it meets.
    let mut holders: Vec<Bits> = vec![Bits::empty(reduced.len()); classes];
    for (user, row) in reduced.iter().enumerate() {
        for class in row.ones() {
            holders[class].set(user);
        }
    }
    // A row is a forced role when it is the smallest closed set around one of its classes: every role
    // covering that assignment lies between the two, so it is the row (the classic reduction).
    let closure: Vec<Bits> = holders
        .iter()
        .map(|users| {
            let mut meet: Option<Bits> = None;
            for user in users.ones() {
                meet = Some(match meet {
                    None => reduced[user].clone(),
                    Some(it) => it.and(&reduced[user]),
                });
            }
            meet.unwrap_or_else(|| Bits::empty(classes))
        })
        .collect();
    let forced: Vec<usize> =
        (0..reduced.len()).filter(|&user| reduced[user].ones().any(|class| closure[class] == reduced[user])).collect();
    let mut uncovered = reduced.to_vec();
    for &user in &forced {
        for other in 0..reduced.len() {
            if reduced[user].is_subset(&reduced[other]) {
                uncovered[other].and_not_assign(&reduced[user]);
            }
        }
    }
    // Candidates: the non-empty intersections of rows that can still cover something: those inside the rows
    // of users with uncovered assignments.
    let mut seen: BitsMap<()> = BitsMap::default();
    let mut intents: Vec<Bits> = Vec::new();
    for (user, row) in reduced.iter().enumerate() {
        if !uncovered[user].is_empty() && seen.insert(row.clone(), ()).is_none() {
            intents.push(row.clone());
        }
    }
    let mut at = 0;
    let mut complete = true;
    while at < intents.len() {
        let mut touching = Bits::empty(reduced.len());
        for class in intents[at].ones() {
            touching.or_assign(&holders[class]);
        }
        for user in touching.ones() {
            let meet = intents[at].and(&reduced[user]);
            if !seen.contains_key(&meet) {
                seen.insert(meet.clone(), ());
                intents.push(meet);
            }
        }
        at += 1;
        if intents.len() > limits.candidates || Instant::now() > enumeration_deadline {
            complete = false;
            break;
        }
    }
    let fits: Vec<Bits> = intents
        .iter()
        .map(|intent| {
            // The users holding every class of the intent.
            let mut users = Bits::empty(reduced.len());
            let mut first = true;
            for class in intent.ones() {
                if first {
                    users = holders[class].clone();
                    first = false;
                } else {
                    users = users.and(&holders[class]);
                }
            }
            users
        })
        .collect();
    let mut holding = vec![Vec::new(); classes];
    for (id, intent) in intents.iter().enumerate() {
        for class in intent.ones() {
            holding[class].push(id as u32);
        }
    }
    let problem = Problem { rows: reduced.to_vec(), intents, fits, holding, classes };
    let _ = problem.classes;
    let lower_bound = forced.len() + problem.fooling(&uncovered);
    // The rows are candidates, so the greedy cover is complete even over a partial enumeration.
    let best = problem.greedy(&uncovered);
    let mut search = Search { problem: &problem, best, deadline, timed_out: false };
    if complete && forced.len() + search.best.len() > lower_bound {
        search.run(uncovered, Vec::new());
    }
    let optimal = forced.len() + search.best.len() == lower_bound || (complete && !search.timed_out);
    let mut roles: Vec<Bits> = forced
        .iter()
        .map(|&user| reduced[user].clone())
        .chain(search.best.iter().map(|&id| problem.intents[id].clone()))
        .collect();
    roles.sort();
    roles.dedup();
    let bound = if optimal { roles.len() } else { lower_bound };
    (roles, optimal, bound)
}

/// Finds the fewest roles for `rows` (each user's permission indices, below `permissions`).
pub fn mine(rows: &[Vec<usize>], permissions: usize, limits: &Limits) -> Solution {
    let deadline = Instant::now() + limits.time;
    // Distinct non-empty users.
    let mut distinct: BitsMap<usize> = BitsMap::default();
    let mut user_rows: Vec<Bits> = Vec::new();
    let mut of_user: Vec<Option<usize>> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut b = Bits::empty(permissions);
        for &p in row {
            b.set(p);
        }
        if b.is_empty() {
            of_user.push(None);
            continue;
        }
        let next = user_rows.len();
        let at = *distinct.entry(b.clone()).or_insert_with(|| {
            user_rows.push(b);
            next
        });
        of_user.push(Some(at));
    }
    // Permissions held by the same users are one class.
    let mut columns: Vec<Bits> = vec![Bits::empty(user_rows.len()); permissions];
    for (user, row) in user_rows.iter().enumerate() {
        for p in row.ones() {
            columns[p].set(user);
        }
    }
    let mut class_of: Vec<Option<usize>> = vec![None; permissions];
    let mut by_column: BitsMap<usize> = BitsMap::default();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (p, column) in columns.into_iter().enumerate() {
        if column.is_empty() {
            continue;
        }
        let next = members.len();
        let id = *by_column.entry(column).or_insert_with(|| {
            members.push(Vec::new());
            next
        });
        members[id].push(p);
        class_of[p] = Some(id);
    }
    let classes = members.len();
    let reduced: Vec<Bits> = user_rows
        .iter()
        .map(|row| {
            let mut b = Bits::empty(classes);
            for p in row.ones() {
                if let Some(class) = class_of[p] {
                    b.set(class);
                }
            }
            b
        })
        .collect();

    // Connected parts (users linked by shared classes) are solved apart: a role never spans two.
    let mut parent: Vec<usize> = (0..classes).collect();
    fn root(parent: &mut [usize], mut at: usize) -> usize {
        while parent[at] != at {
            parent[at] = parent[parent[at]];
            at = parent[at];
        }
        at
    }
    for row in &reduced {
        let mut classes_of_row = row.ones();
        if let Some(first) = classes_of_row.next() {
            for other in classes_of_row {
                let (a, b) = (root(&mut parent, first), root(&mut parent, other));
                parent[a] = b;
            }
        }
    }
    let mut parts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (user, row) in reduced.iter().enumerate() {
        if let Some(class) = row.ones().next() {
            parts.entry(root(&mut parent, class)).or_default().push(user);
        }
    }
    let mut roles_over_classes: Vec<Bits> = Vec::new();
    let mut optimal = true;
    let mut lower_bound = 0;
    for users in parts.values() {
        // Local class numbering.
        let mut local: Vec<usize> = Vec::new();
        let mut index: HashMap<usize, usize> = HashMap::new();
        for &user in users {
            for class in reduced[user].ones() {
                index.entry(class).or_insert_with(|| {
                    local.push(class);
                    local.len() - 1
                });
            }
        }
        let rows: Vec<Bits> = users
            .iter()
            .map(|&user| {
                let mut b = Bits::empty(local.len());
                for class in reduced[user].ones() {
                    b.set(index[&class]);
                }
                b
            })
            .collect();
        let (roles, proven, bound) = solve(&rows, local.len(), limits, deadline);
        optimal &= proven;
        lower_bound += bound;
        for role in roles {
            let mut b = Bits::empty(classes);
            for class in role.ones() {
                b.set(local[class]);
            }
            roles_over_classes.push(b);
        }
    }
    roles_over_classes.sort();

    // Back to permissions; each user gets a smallest sufficient subset of the roles that fit it.
    let roles: Vec<Vec<usize>> = roles_over_classes
        .iter()
        .map(|role| {
            let mut role: Vec<usize> = role.ones().flat_map(|class| members[class].clone()).collect();
            role.sort_unstable();
            role
        })
        .collect();
    let per_distinct: Vec<Vec<usize>> = reduced
        .iter()
        .map(|row| {
            let mut fitting: Vec<usize> =
                (0..roles_over_classes.len()).filter(|&r| roles_over_classes[r].is_subset(row)).collect();
            fitting.sort_by_key(|&r| std::cmp::Reverse(roles_over_classes[r].count()));
            let mut kept: Vec<usize> = Vec::new();
            let mut covered = Bits::empty(classes);
            for r in fitting {
                let role = &roles_over_classes[r];
                if !role.is_subset(&covered) {
                    kept.push(r);
                    covered.or_assign(role);
                }
            }
            debug_assert!(row.is_subset(&covered));
            kept.sort_unstable();
            kept
        })
        .collect();
    let assignments = of_user.iter().map(|it| it.map(|at| per_distinct[at].clone()).unwrap_or_default()).collect();
    let count = roles.len();
    Solution { roles, assignments, optimal, lower_bound: if optimal { count } else { lower_bound } }
}

/// A user-permission matrix: user ids, permission ids, and each user's permission indices.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub users: Vec<u64>,
    pub permissions: Vec<u64>,
    pub rows: Vec<Vec<usize>>,
}

/// A user-permission matrix in the pairs format: one `<user> <permission>` pair of positive integers per
/// line.
pub fn parse_pairs(text: &str) -> Result<Matrix, String> {
    let mut users: Vec<u64> = Vec::new();
    let mut permissions: Vec<u64> = Vec::new();
    let mut user_index: HashMap<u64, usize> = HashMap::new();
    let mut permission_index: HashMap<u64, usize> = HashMap::new();
    let mut rows: Vec<Vec<usize>> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let parse = |part: Option<&str>| part.and_then(|it| it.parse::<u64>().ok());
        let (Some(user), Some(permission), None) = (parse(parts.next()), parse(parts.next()), parts.next()) else {
            return Err(format!("line {}: expected `<user id> <permission id>`, found `{line}`", number + 1));
        };
        let u = *user_index.entry(user).or_insert_with(|| {
            users.push(user);
            rows.push(Vec::new());
            users.len() - 1
        });
        let p = *permission_index.entry(permission).or_insert_with(|| {
            permissions.push(permission);
            permissions.len() - 1
        });
        if !rows[u].contains(&p) {
            rows[u].push(p);
        }
    }
    Ok(Matrix { users, permissions, rows })
}

/// Whether `solution` gives every user exactly its permissions.
pub fn reproduces(rows: &[Vec<usize>], solution: &Solution) -> bool {
    rows.iter().zip(&solution.assignments).all(|(row, roles)| {
        let mut want = row.clone();
        want.sort_unstable();
        want.dedup();
        let mut got: Vec<usize> = roles.iter().flat_map(|&r| solution.roles[r].iter().copied()).collect();
        got.sort_unstable();
        got.dedup();
        got == want
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solve(rows: &[&[usize]], permissions: usize) -> Solution {
        let rows: Vec<Vec<usize>> = rows.iter().map(|it| it.to_vec()).collect();
        let solution = mine(&rows, permissions, &Limits::default());
        assert!(reproduces(&rows, &solution), "{solution:?}");
        solution
    }

    #[test]
    fn identical_users_share_one_role() {
        let solution = solve(&[&[0, 1, 2], &[0, 1, 2], &[0, 1, 2]], 3);
        assert_eq!(solution.roles, vec![vec![0, 1, 2]]);
        assert!(solution.optimal);
    }

    #[test]
    fn a_shared_core_and_personal_extras() {
        // Each user's own set: 3 roles, and no two of (u0, 2), (u1, 3), (u2, 4) fit one role.
        let solution = solve(&[&[0, 1, 2], &[0, 1, 3], &[0, 1, 4]], 5);
        assert_eq!(solution.roles.len(), 3);
        assert!(solution.optimal);
        // A fourth user with only the core needs a fourth role.
        let solution = solve(&[&[0, 1, 2], &[0, 1, 3], &[0, 1, 4], &[0, 1]], 5);
        assert_eq!(solution.roles.len(), 4);
        assert!(solution.optimal);
    }

    #[test]
    fn the_crown_needs_as_few_roles_as_sperners_theorem_allows() {
        // User i holds every permission but i. Its biclique cover number is the least k with
        // n <= C(k, k/2) (de Caen, Gregory, Pullman): 4 for n = 4 and for n = 6.
        for (n, k) in [(4, 4), (6, 4)] {
            let rows: Vec<Vec<usize>> = (0..n).map(|i| (0..n).filter(|&p| p != i).collect()).collect();
            let refs: Vec<&[usize]> = rows.iter().map(Vec::as_slice).collect();
            let solution = solve(&refs, n);
            assert_eq!(solution.roles.len(), k, "n = {n}");
            assert!(solution.optimal, "n = {n}");
        }
    }

    #[test]
    fn users_without_permissions_get_no_roles() {
        let solution = solve(&[&[], &[0]], 1);
        assert_eq!(solution.assignments, vec![vec![], vec![0]]);
    }

    #[test]
    fn pairs_parse_with_line_numbers_on_error() {
        let matrix = parse_pairs("  1  7\n 1 8\n 2 7\n").unwrap();
        assert_eq!((matrix.users, matrix.permissions), (vec![1, 2], vec![7, 8]));
        assert_eq!(matrix.rows, vec![vec![0, 1], vec![0]]);
        assert_eq!(parse_pairs("1 2\n1\n").unwrap_err(), "line 2: expected `<user id> <permission id>`, found `1`");
    }
}
