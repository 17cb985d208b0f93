//! winchester's trigger definitions (`winchester/definition.py`), reimplemented: what groups
//! events into streams, when a stream fires and when it expires. Pure: no database, no clock
//! (except [`TriggerDefinition::expire_time`], see there).
//!
//! # The YAML format (winchester's `trigger_definitions` file)
//! A list of triggers:
//! ```yaml
//! - name: instance_usage              # required, unique
//!   distinguished_by:                 # optional; a trait, or {trait: timex} (one key)
//!   - instance_id
//!   - timestamp: day
//!   expiration: "$last + 1h"          # required; timex over $first, $last ($timestamp = now)
//!   fire_delay: 0                     # optional, seconds (default 0)
//!   fire_pipeline: usage              # at least one of fire_pipeline / expire_pipeline
//!   expire_pipeline: usage_expired
//!   match_criteria:                   # required list (an event joins if one matches)
//!   - event_type: [compute.instance.*, "!compute.instance.exists"]
//!   - event_type: compute.instance.exists
//!     map_distinguished_by: {timestamp: audit_period_beginning}
//!   fire_criteria:                    # required list (all must be met by the stream)
//!   - event_type: compute.instance.exists
//!     number: 1
//!   load_criteria: []                 # optional; parsed and kept, unused (as in winchester)
//! ```
//! A criterion has `event_type` (a pattern or a list; `fnmatch` wildcards `*`, `?`, `[...]`,
//! `[!...]`; a leading `!` excludes; no `event_type` means `*`), `number` (fire criteria: how
//! many events must match; default 1), `timestamp` (a timex the event's time must fall in,
//! evaluated with the event's time traits and `$timestamp`, the event's time),
//! `map_distinguished_by` (distinguishing trait → the event trait that supplies it) and
//! `traits` (trait → a value to equal, or `{int|float: "[op] N"}` with op `=`, `>`, `<`,
//! `{datetime: timex}` (the trait's time must fall in it), `{string|text: value}`).
//! The pseudo-traits `timestamp` (the event's time) and `event_type` can be used like traits,
//! as in winchester, where they were keys of the same event dict.
//!
//! # Where this differs from winchester
//! Loading is stricter where winchester crashed later or silently never matched:
//! unknown trait criterion types (`numeric:`, which winchester's own example comments show),
//! operators other than `=`, `>`, `<`, list/null trait values, unknown timex functions,
//! distinguisher expressions using variables other than `$timestamp`, expirations using
//! variables other than `$first`, `$last`, `$timestamp`, non-list `*_criteria`, duplicate
//! trigger names (winchester kept the last one) are load errors. Unknown keys are ignored, as
//! winchester ignores them ([`load_with_warnings`] lists them: winchester's example has the
//! typo `map_distingushed_by`). `>`/`<` compare only numeric traits (Python 2 also ordered
//! strings after numbers). A string constant that reads as a datetime also equals a time
//! trait (PyYAML turned unquoted timestamps into datetimes). YAML is read as YAML 1.2
//! (`yes` is a string, not a boolean as in PyYAML's YAML 1.1). `debug_level` is ignored.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, TimeDelta};
use serde_yaml_ng::{Mapping, Value};

use super::model::{DistValue, EventView, TraitValue};
use super::timex::{TimeExpr, TimeMatch, TimexError};

/// A trigger definition.
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerDefinition {
    pub name: String,
    pub distinguished_by: Vec<Distinguisher>,
    /// Evaluated with `$first` and `$last` (the stream's first and last event times).
    pub expiration: TimeExpr,
    /// Seconds between meeting the fire criteria and firing.
    pub fire_delay: i64,
    pub fire_pipeline: Option<String>,
    pub expire_pipeline: Option<String>,
    pub match_criteria: Vec<Criterion>,
    pub fire_criteria: Vec<Criterion>,
    /// Parsed and validated, but winchester never used them; neither does this crate.
    pub load_criteria: Vec<Criterion>,
}

/// One entry of `distinguished_by`: a trait, optionally reduced by a timex expression of
/// `$timestamp` (the trait's value; `timestamp: day` gives the UTC day of the event's time).
#[derive(Clone, Debug, PartialEq)]
pub struct Distinguisher {
    pub trait_name: String,
    pub expr: Option<TimeExpr>,
}

/// One match, fire or load criterion (winchester's `Criteria`).
#[derive(Clone, Debug, PartialEq)]
pub struct Criterion {
    pub event_type: EventTypeFilter,
    /// For fire criteria: how many of the stream's events must match (default 1).
    pub number: u64,
    /// The event's time must fall in this (evaluated with the event's time traits and
    /// `$timestamp`).
    pub timestamp: Option<TimeExpr>,
    /// Distinguishing trait → the event trait that supplies its value for events matched by
    /// this criterion.
    pub map_distinguished_by: BTreeMap<String, String>,
    /// Every one must hold.
    pub traits: BTreeMap<String, TraitCriterion>,
}

/// `event_type`: included patterns (any must match) and excluded ones (`!pattern`, none may).
#[derive(Clone, Debug, PartialEq)]
pub struct EventTypeFilter {
    pub included: Vec<Pattern>,
    pub excluded: Vec<Pattern>,
}

impl EventTypeFilter {
    pub fn matches(&self, event_type: &str) -> bool {
        self.included.iter().any(|p| p.matches(event_type))
            && !self.excluded.iter().any(|p| p.matches(event_type))
    }
}

/// What a trait must be.
#[derive(Clone, Debug, PartialEq)]
pub enum TraitCriterion {
    /// Equal as Python's `==` compared them: a string equals a string trait; numbers equal
    /// int and float traits by value (a boolean is 1 or 0); a string that reads as a datetime
    /// equals a time trait of that instant.
    Equals(Constant),
    /// `{int: "> N"}`, `{float: "> X"}`: a numeric trait greater than the number.
    Greater(Number),
    /// `{int: "< N"}`, `{float: "< X"}`.
    Less(Number),
    /// `{datetime: timex}`: a time trait within the expression's range (or equal to its
    /// point), evaluated with the event's time traits and `$timestamp`.
    Within(TimeExpr),
}

/// A constant a trait is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    Text {
        value: String,
        /// The value read as a datetime, if it reads as one.
        as_time: Option<NaiveDateTime>,
    },
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl TriggerDefinition {
    /// winchester's `match(event)`: every distinguishing trait is present, and some match
    /// criterion holds.
    pub fn matches(&self, e: &EventView) -> bool {
        self.matching_criterion(e).is_some()
    }

    /// The index of the first match criterion the event meets (the one whose
    /// `map_distinguished_by` applies), if every distinguishing trait is present.
    pub fn matching_criterion(&self, e: &EventView) -> Option<usize> {
        if self
            .distinguished_by
            .iter()
            .any(|d| field(e, &d.trait_name).is_none())
        {
            return None;
        }
        self.match_criteria.iter().position(|c| c.matches(e))
    }

    /// The stream key of a matching event: each distinguishing trait's value (through the
    /// matching criterion's `map_distinguished_by`, and reduced by the distinguisher's timex
    /// if it has one), sorted by trait name. `None` if the event does not match, or a mapped
    /// trait is missing, or a timex distinguisher's trait is not a time (winchester raised).
    pub fn distinguishing_values(&self, e: &EventView) -> Option<Vec<(String, DistValue)>> {
        let criterion = self.matching_criterion(e)?;
        self.distinguishing_values_for(e, criterion)
    }

    /// `distinguishing_values` for an event already known to match `match_criteria[criterion]`.
    pub fn distinguishing_values_for(
        &self,
        e: &EventView,
        criterion: usize,
    ) -> Option<Vec<(String, DistValue)>> {
        let map = &self.match_criteria.get(criterion)?.map_distinguished_by;
        let mut out = Vec::with_capacity(self.distinguished_by.len());
        for d in &self.distinguished_by {
            let source = map.get(&d.trait_name).unwrap_or(&d.trait_name);
            let value = field(e, source)?;
            let dist = match &d.expr {
                Some(expr) => match value.as_ref() {
                    TraitValue::Time(t) => expr.eval_at(*t).ok()?.to_dist_value(),
                    _ => return None,
                },
                None => dist_value(value.into_owned()),
            };
            out.push((d.trait_name.clone(), dist));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Some(out)
    }

    /// The stream's expiry for its first and last event times: the expiration expression
    /// (a range gives its beginning, as timex's `.timestamp`). `$timestamp` is the current UTC
    /// time, as in winchester. Should evaluation fail (only calendar errors can remain after
    /// loading, such as `$last + 1mo` from January 31st), this is `last`: the stream expires
    /// on the next pass rather than never; use [`Self::try_expire_time`] to see the error.
    pub fn expire_time(&self, first: NaiveDateTime, last: NaiveDateTime) -> NaiveDateTime {
        self.try_expire_time(first, last, chrono::Utc::now().naive_utc())
            .unwrap_or(last)
    }

    /// The expiration expression with `$first`, `$last` and `$timestamp` = `now`.
    pub fn try_expire_time(
        &self,
        first: NaiveDateTime,
        last: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Result<NaiveDateTime, TimexError> {
        self.expiration
            .eval(|name| match name {
                "first" => Some(first),
                "last" => Some(last),
                "timestamp" => Some(now),
                _ => None,
            })
            .map(|m| m.timestamp())
    }

    /// winchester's `get_fire_timestamp`: `now + fire_delay`.
    pub fn fire_time(&self, now: NaiveDateTime) -> NaiveDateTime {
        now.checked_add_signed(TimeDelta::seconds(self.fire_delay))
            .unwrap_or(NaiveDateTime::MAX)
    }

    /// winchester's `should_fire(events)`: every fire criterion is met by at least `number` of
    /// the events.
    pub fn should_fire(&self, events: &[EventView]) -> bool {
        self.fire_criteria.iter().all(|c| {
            c.number == 0
                || events
                    .iter()
                    .filter(|e| c.matches(e))
                    .take(c.number as usize)
                    .count() as u64
                    >= c.number
        })
    }

    /// The indexes of the fire criteria `e` meets: the incremental form of `should_fire`.
    ///
    /// Whether an event meets a criterion depends on that event alone, so an engine can keep
    /// per stream `counts: Vec<u64>` (one per fire criterion, starting at zero), add 1 to
    /// `counts[i]` for each `i` returned here as each event joins the stream, and ask
    /// [`Self::fire_criteria_met`]`(&counts)`, which equals `should_fire` over all the stream's
    /// events.
    pub fn fire_criterion_hits(&self, e: &EventView) -> Vec<usize> {
        self.fire_criteria
            .iter()
            .enumerate()
            .filter(|(_, c)| c.matches(e))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether per-criterion match counts (see [`Self::fire_criterion_hits`]) meet every fire
    /// criterion's `number`; a missing count is zero.
    pub fn fire_criteria_met(&self, counts: &[u64]) -> bool {
        self.fire_criteria
            .iter()
            .enumerate()
            .all(|(i, c)| counts.get(i).copied().unwrap_or(0) >= c.number)
    }
}

impl Criterion {
    /// winchester's `Criteria.match`: the event type, then the timestamp range, then every
    /// trait criterion.
    pub fn matches(&self, e: &EventView) -> bool {
        if !self.event_type.matches(e.event_type) {
            return false;
        }
        if let Some(expr) = &self.timestamp {
            match expr.eval(|name| time_var(e, name)) {
                Ok(range) if range.contains(e.generated) => {}
                // out of range, or a referenced trait missing: no match, as in winchester
                _ => return false,
            }
        }
        self.traits.iter().all(|(name, c)| c.matches(e, name))
    }
}

impl TraitCriterion {
    /// Whether the event's trait `name` meets this (a missing trait never does).
    pub fn matches(&self, e: &EventView, name: &str) -> bool {
        let Some(value) = field(e, name) else {
            return false;
        };
        let value = value.as_ref();
        match self {
            TraitCriterion::Equals(c) => c.equals(value),
            TraitCriterion::Greater(n) => {
                compare(value, *n).is_some_and(|o| o == std::cmp::Ordering::Greater)
            }
            TraitCriterion::Less(n) => {
                compare(value, *n).is_some_and(|o| o == std::cmp::Ordering::Less)
            }
            TraitCriterion::Within(expr) => match value {
                TraitValue::Time(t) => expr
                    .eval(|var| time_var(e, var))
                    .is_ok_and(|m: TimeMatch| m.contains(*t)),
                _ => false,
            },
        }
    }
}

impl Constant {
    /// Python 2's `trait == constant` for the trait types winchester stored.
    pub fn equals(&self, value: &TraitValue) -> bool {
        match (value, self) {
            (TraitValue::Text(s), Constant::Text { value, .. }) => s == value,
            (TraitValue::Time(t), Constant::Text { as_time, .. }) => as_time.as_ref() == Some(t),
            (TraitValue::Int(i), Constant::Int(c)) => i == c,
            (TraitValue::Int(i), Constant::Float(f)) => (*i as f64) == *f,
            (TraitValue::Int(i), Constant::Bool(b)) => *i == i64::from(*b),
            (TraitValue::Float(x), Constant::Int(c)) => *x == *c as f64,
            (TraitValue::Float(x), Constant::Float(f)) => x == f,
            (TraitValue::Float(x), Constant::Bool(b)) => *x == f64::from(u8::from(*b)),
            _ => false,
        }
    }
}

/// A numeric trait against a number (`None`: not numeric, or NaN).
fn compare(value: &TraitValue, n: Number) -> Option<std::cmp::Ordering> {
    match (value, n) {
        (TraitValue::Int(i), Number::Int(c)) => Some(i.cmp(&c)),
        (TraitValue::Int(i), Number::Float(c)) => (*i as f64).partial_cmp(&c),
        (TraitValue::Float(x), Number::Int(c)) => x.partial_cmp(&(c as f64)),
        (TraitValue::Float(x), Number::Float(c)) => x.partial_cmp(&c),
        _ => None,
    }
}

/// An event's value by name, as winchester's event dict had it: the traits, with `timestamp`
/// (the event's time) and `event_type` over any trait of that name. (`message_id` was in the
/// dict too; `EventView` does not carry it, so it reads as absent.)
fn field<'a>(e: &EventView<'a>, name: &str) -> Option<Cow<'a, TraitValue>> {
    match name {
        "timestamp" => Some(Cow::Owned(TraitValue::Time(e.generated))),
        "event_type" => Some(Cow::Owned(TraitValue::Text(e.event_type.to_string()))),
        _ => e.traits.get(name).map(Cow::Borrowed),
    }
}

/// The variables a criterion's timex sees: the event's time traits and `$timestamp`.
fn time_var(e: &EventView, name: &str) -> Option<NaiveDateTime> {
    if name == "timestamp" {
        return Some(e.generated);
    }
    match e.traits.get(name) {
        Some(TraitValue::Time(t)) => Some(*t),
        _ => None,
    }
}

fn dist_value(v: TraitValue) -> DistValue {
    match v {
        TraitValue::Text(s) => DistValue::Text(s),
        TraitValue::Int(i) => DistValue::Int(i),
        TraitValue::Float(f) => DistValue::Float(f),
        TraitValue::Time(t) => DistValue::Time(t),
    }
}

// ---------------------------------------------------------------------------------------------
// fnmatch

/// An `fnmatch` pattern as Python 2's `fnmatch.fnmatch` on POSIX read it (case-sensitive):
/// `*` any run of characters, `?` one character, `[abc]`/`[a-z]` a set, `[!abc]` its
/// complement (`]` first in a set is literal), an unclosed `[` a literal `[`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    source: String,
    items: Vec<PatItem>,
}

#[derive(Clone, Debug, PartialEq)]
enum PatItem {
    Star,
    Any,
    Lit(char),
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl PatItem {
    fn matches_one(&self, c: char) -> bool {
        match self {
            PatItem::Star => false,
            PatItem::Any => true,
            PatItem::Lit(l) => *l == c,
            PatItem::Set { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

impl Pattern {
    pub fn new(pattern: &str) -> Result<Pattern, String> {
        let p: Vec<char> = pattern.chars().collect();
        let mut items = Vec::new();
        let mut i = 0;
        while i < p.len() {
            let c = p[i];
            i += 1;
            match c {
                '*' => {
                    if items.last() != Some(&PatItem::Star) {
                        items.push(PatItem::Star);
                    }
                }
                '?' => items.push(PatItem::Any),
                '[' => {
                    let mut j = i;
                    if j < p.len() && p[j] == '!' {
                        j += 1;
                    }
                    if j < p.len() && p[j] == ']' {
                        j += 1;
                    }
                    while j < p.len() && p[j] != ']' {
                        j += 1;
                    }
                    if j >= p.len() {
                        items.push(PatItem::Lit('['));
                        continue;
                    }
                    let mut stuff = &p[i..j];
                    i = j + 1;
                    let negated = stuff.first() == Some(&'!');
                    if negated {
                        stuff = &stuff[1..];
                    }
                    let mut ranges = Vec::new();
                    let mut k = 0;
                    while k < stuff.len() {
                        if k + 2 < stuff.len() && stuff[k + 1] == '-' {
                            let (lo, hi) = (stuff[k], stuff[k + 2]);
                            if lo > hi {
                                return Err(format!(
                                    "bad character range {lo}-{hi} in pattern {pattern:?}"
                                ));
                            }
                            ranges.push((lo, hi));
                            k += 3;
                        } else {
                            ranges.push((stuff[k], stuff[k]));
                            k += 1;
                        }
                    }
                    items.push(PatItem::Set { negated, ranges });
                }
                c => items.push(PatItem::Lit(c)),
            }
        }
        Ok(Pattern {
            source: pattern.to_string(),
            items,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        let p = &self.items;
        let (mut pi, mut si) = (0, 0);
        // the last star seen, and the text position it is currently made to end at
        let mut star: Option<(usize, usize)> = None;
        while si < s.len() {
            if pi < p.len() && p[pi] == PatItem::Star {
                star = Some((pi, si));
                pi += 1;
            } else if pi < p.len() && p[pi].matches_one(s[si]) {
                pi += 1;
                si += 1;
            } else if let Some((sp, ss)) = star {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|item| *item == PatItem::Star)
    }
}

/// `fnmatch.fnmatch(name, pattern)`; a pattern with a reversed range (`[z-a]`) matches nothing.
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    Pattern::new(pattern).is_ok_and(|p| p.matches(name))
}

// ---------------------------------------------------------------------------------------------
// Loading

/// Reads a trigger definitions file (a YAML list of triggers). Errors name the trigger (by
/// name, and by position from 1) and the field.
pub fn load(text: &str) -> Result<Vec<TriggerDefinition>, String> {
    load_with_warnings(text).map(|(defs, _)| defs)
}

/// `load`, also returning one warning per key that winchester would ignore (a misspelt
/// `map_distingushed_by`...).
pub fn load_with_warnings(text: &str) -> Result<(Vec<TriggerDefinition>, Vec<String>), String> {
    let mut doc: Value = serde_yaml_ng::from_str(text)
        .map_err(|e| format!("trigger definitions: invalid YAML: {e}"))?;
    doc.apply_merge()
        .map_err(|e| format!("trigger definitions: invalid YAML merge (<<): {e}"))?;
    let items = match doc {
        Value::Null => return Ok((Vec::new(), Vec::new())),
        Value::Sequence(items) => items,
        other => {
            return Err(format!(
                "trigger definitions: the file must be a YAML list of triggers, found {}",
                kind(&other)
            ));
        }
    };
    let mut defs: Vec<TriggerDefinition> = Vec::with_capacity(items.len());
    let mut warnings = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let def = TriggerDefinition::from_yaml(item, i + 1, &mut warnings)?;
        if let Some(first) = seen.insert(def.name.clone(), i + 1) {
            return Err(format!(
                "trigger {:?} (#{}): duplicate name (trigger #{first} has the same name)",
                def.name,
                i + 1
            ));
        }
        defs.push(def);
    }
    Ok((defs, warnings))
}

const TRIGGER_KEYS: [&str; 10] = [
    "name",
    "debug_level",
    "distinguished_by",
    "expiration",
    "fire_delay",
    "fire_pipeline",
    "expire_pipeline",
    "match_criteria",
    "fire_criteria",
    "load_criteria",
];

const CRITERION_KEYS: [&str; 5] = [
    "event_type",
    "number",
    "timestamp",
    "map_distinguished_by",
    "traits",
];

impl TriggerDefinition {
    /// One trigger from its YAML mapping (`index` counts from 1, for messages).
    pub fn from_yaml(
        value: &Value,
        index: usize,
        warnings: &mut Vec<String>,
    ) -> Result<TriggerDefinition, String> {
        let anon = format!("trigger #{index}");
        let map = value.as_mapping().ok_or_else(|| {
            format!(
                "{anon}: must be a mapping of fields (name, expiration, ...), found {}",
                kind(value)
            )
        })?;
        string_keys(map, &anon, "")?;
        let name = match map.get("name") {
            None | Some(Value::Null) => {
                return Err(format!("{anon}: required field 'name' is missing"));
            }
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Value::String(_)) => return Err(format!("{anon}: field 'name' is empty")),
            Some(other) => {
                return Err(format!(
                    "{anon}: field 'name' must be a string, found {}",
                    kind(other)
                ));
            }
        };
        let at = format!("trigger {name:?} (#{index})");
        let ctx = Ctx { at: &at };
        for key in map.keys().filter_map(Value::as_str) {
            if !TRIGGER_KEYS.contains(&key) {
                warnings.push(format!("{at}: unknown field '{key}' ignored"));
            }
        }

        let distinguished_by = match present(map, "distinguished_by") {
            None => Vec::new(),
            Some(v) => ctx.distinguishers(v)?,
        };

        let Some(expiration) = present(map, "expiration") else {
            return Err(ctx.err("expiration", "required field is missing"));
        };
        let expiration = ctx.timex("expiration", expiration)?;
        if let Some(var) = expiration
            .variables()
            .into_iter()
            .find(|v| !["first", "last", "timestamp"].contains(v))
        {
            return Err(ctx.err(
                "expiration",
                &format!("the expression can use $first, $last and $timestamp (now), not ${var}"),
            ));
        }

        let fire_delay = match present(map, "fire_delay") {
            None => 0,
            Some(v) => whole_number(v).ok_or_else(|| {
                ctx.err(
                    "fire_delay",
                    &format!("must be a whole number of seconds, found {}", show(v)),
                )
            })?,
        };

        let fire_pipeline = ctx.pipeline(map, "fire_pipeline")?;
        let expire_pipeline = ctx.pipeline(map, "expire_pipeline")?;
        if fire_pipeline.is_none() && expire_pipeline.is_none() {
            return Err(format!(
                "{at}: at least one of 'fire_pipeline' or 'expire_pipeline' must be given"
            ));
        }

        let fire_criteria = ctx.criteria(map, "fire_criteria", true, warnings)?;
        let match_criteria = ctx.criteria(map, "match_criteria", true, warnings)?;
        let load_criteria = ctx.criteria(map, "load_criteria", false, warnings)?;

        Ok(TriggerDefinition {
            name,
            distinguished_by,
            expiration,
            fire_delay,
            fire_pipeline,
            expire_pipeline,
            match_criteria,
            fire_criteria,
            load_criteria,
        })
    }
}

/// Where a message points: the trigger's label.
struct Ctx<'a> {
    at: &'a str,
}

impl Ctx<'_> {
    fn err(&self, field: &str, message: &str) -> String {
        format!("{}: field '{field}': {message}", self.at)
    }

    fn timex(&self, field: &str, v: &Value) -> Result<TimeExpr, String> {
        match v {
            Value::String(s) => TimeExpr::parse(s).map_err(|e| self.err(field, &e.to_string())),
            other => Err(self.err(
                field,
                &format!(
                    "must be a time expression (a string), found {}",
                    kind(other)
                ),
            )),
        }
    }

    fn pipeline(&self, map: &Mapping, field: &str) -> Result<Option<String>, String> {
        match present(map, field) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.err(
                field,
                &format!("must be a pipeline name (a string), found {}", kind(other)),
            )),
        }
    }

    fn distinguishers(&self, v: &Value) -> Result<Vec<Distinguisher>, String> {
        let items = v.as_sequence().ok_or_else(|| {
            self.err(
                "distinguished_by",
                &format!("must be a list of traits, found {}", kind(v)),
            )
        })?;
        let mut out: Vec<Distinguisher> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let field = format!("distinguished_by[{i}]");
            let d = match item {
                Value::String(s) if !s.is_empty() => Distinguisher {
                    trait_name: s.clone(),
                    expr: None,
                },
                Value::Mapping(m) if m.len() == 1 => {
                    let (k, expr) = m.iter().next().expect("one entry");
                    let Some(trait_name) = k.as_str().filter(|s| !s.is_empty()) else {
                        return Err(self.err(&field, "the trait name must be a string"));
                    };
                    let field = format!("{field}.{trait_name}");
                    let expr = self.timex(&field, expr)?;
                    if let Some(var) = expr.variables().into_iter().find(|v| *v != "timestamp") {
                        return Err(self.err(
                            &field,
                            &format!(
                                "the expression can only use $timestamp (the trait's value), \
                                 not ${var}"
                            ),
                        ));
                    }
                    Distinguisher {
                        trait_name: trait_name.to_string(),
                        expr: Some(expr),
                    }
                }
                Value::Mapping(_) => {
                    return Err(self.err(
                        &field,
                        "only one trait is allowed in an expression ({trait: timex})",
                    ));
                }
                other => {
                    return Err(self.err(
                        &field,
                        &format!(
                            "must be a trait name or {{trait: time expression}}, found {}",
                            kind(other)
                        ),
                    ));
                }
            };
            if out.iter().any(|o| o.trait_name == d.trait_name) {
                return Err(self.err(&field, &format!("trait '{}' is listed twice", d.trait_name)));
            }
            out.push(d);
        }
        Ok(out)
    }

    fn criteria(
        &self,
        map: &Mapping,
        field: &str,
        required: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Criterion>, String> {
        let v = match present(map, field) {
            Some(v) => v,
            None if required => return Err(self.err(field, "required field is missing")),
            None => return Ok(Vec::new()),
        };
        let items = v.as_sequence().ok_or_else(|| {
            self.err(
                field,
                &format!("must be a list of criteria, found {}", kind(v)),
            )
        })?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.criterion(&format!("{field}[{i}]"), item, warnings))
            .collect()
    }

    fn criterion(
        &self,
        field: &str,
        v: &Value,
        warnings: &mut Vec<String>,
    ) -> Result<Criterion, String> {
        let map = v.as_mapping().ok_or_else(|| {
            self.err(
                field,
                &format!(
                    "a criterion must be a mapping such as {{event_type: ...}}, found {}",
                    kind(v)
                ),
            )
        })?;
        string_keys(map, self.at, field)?;
        for key in map.keys().filter_map(Value::as_str) {
            if !CRITERION_KEYS.contains(&key) {
                warnings.push(format!(
                    "{}: field '{field}': unknown key '{key}' ignored",
                    self.at
                ));
            }
        }

        let mut included = Vec::new();
        let mut excluded = Vec::new();
        let sub = format!("{field}.event_type");
        match present(map, "event_type") {
            None => {}
            Some(v) => {
                let names: Vec<&str> = match v {
                    Value::String(s) => vec![s.as_str()],
                    Value::Sequence(items) => items
                        .iter()
                        .map(|i| {
                            i.as_str().ok_or_else(|| {
                                self.err(
                                    &sub,
                                    &format!("event types must be strings, found {}", kind(i)),
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    other => {
                        return Err(self.err(
                            &sub,
                            &format!("must be a pattern or a list of them, found {}", kind(other)),
                        ));
                    }
                };
                for name in names {
                    let (list, pat) = match name.strip_prefix('!') {
                        Some(rest) => (&mut excluded, rest),
                        None => (&mut included, name),
                    };
                    list.push(Pattern::new(pat).map_err(|m| self.err(&sub, &m))?);
                }
            }
        }
        if present(map, "event_type").is_none() || (!excluded.is_empty() && included.is_empty()) {
            included.push(Pattern::new("*").expect("a valid pattern"));
        }

        let number = match present(map, "number") {
            None => 1,
            Some(v) => v.as_u64().ok_or_else(|| {
                self.err(
                    &format!("{field}.number"),
                    &format!("must be a whole number of events, found {}", show(v)),
                )
            })?,
        };

        let timestamp = match present(map, "timestamp") {
            None => None,
            Some(v) => Some(self.timex(&format!("{field}.timestamp"), v)?),
        };

        let mut map_distinguished_by = BTreeMap::new();
        if let Some(v) = present(map, "map_distinguished_by") {
            let sub = format!("{field}.map_distinguished_by");
            let m = v.as_mapping().ok_or_else(|| {
                self.err(
                    &sub,
                    &format!("must be a mapping of trait names, found {}", kind(v)),
                )
            })?;
            for (k, v) in m {
                match (k.as_str(), v.as_str()) {
                    (Some(k), Some(v)) => {
                        map_distinguished_by.insert(k.to_string(), v.to_string());
                    }
                    _ => {
                        return Err(self.err(
                            &sub,
                            &format!("{} → {}: both must be trait names", show(k), show(v)),
                        ));
                    }
                }
            }
        }

        let mut traits = BTreeMap::new();
        if let Some(v) = present(map, "traits") {
            let sub = format!("{field}.traits");
            let m = v.as_mapping().ok_or_else(|| {
                self.err(
                    &sub,
                    &format!(
                        "must be a mapping of trait name → criterion, found {}",
                        kind(v)
                    ),
                )
            })?;
            for (k, v) in m {
                let Some(name) = k.as_str() else {
                    return Err(self.err(
                        &sub,
                        &format!("trait names must be strings, found {}", show(k)),
                    ));
                };
                let c = self.trait_criterion(&format!("{sub}.{name}"), v)?;
                traits.insert(name.to_string(), c);
            }
        }

        Ok(Criterion {
            event_type: EventTypeFilter { included, excluded },
            number,
            timestamp,
            map_distinguished_by,
            traits,
        })
    }

    fn trait_criterion(&self, field: &str, v: &Value) -> Result<TraitCriterion, String> {
        let m = match v {
            Value::Mapping(m) => m,
            other => return self.constant(field, other).map(TraitCriterion::Equals),
        };
        if m.len() != 1 {
            return Err(self.err(
                field,
                "exactly one type of match is allowed ({int|float|datetime|string|text: ...})",
            ));
        }
        let (k, expr) = m.iter().next().expect("one entry");
        match k.as_str() {
            Some(ty @ ("int" | "float")) => {
                let Value::String(s) = expr else {
                    // a non-string is compared as it is, like a constant
                    return self
                        .constant(&format!("{field}.{ty}"), expr)
                        .map(TraitCriterion::Equals);
                };
                self.numeric(&format!("{field}.{ty}"), ty == "float", s)
            }
            Some("datetime") => self
                .timex(&format!("{field}.datetime"), expr)
                .map(TraitCriterion::Within),
            Some(ty @ ("string" | "text")) => self
                .constant(&format!("{field}.{ty}"), expr)
                .map(TraitCriterion::Equals),
            _ => Err(self.err(
                field,
                &format!(
                    "unknown type of match {} (expected int, float, datetime, string or text)",
                    show(k)
                ),
            )),
        }
    }

    /// `"> 4096"`, `"< 4.02"`, `"= 5"`, `"5"`: winchester's NumericCriterion.
    fn numeric(&self, field: &str, float: bool, s: &str) -> Result<TraitCriterion, String> {
        let s = s.trim();
        let (op, value) = match s.split_once(char::is_whitespace) {
            Some((op, rest)) => (op, rest.trim()),
            None => ("=", s),
        };
        let bad = || {
            self.err(
                field,
                &format!(
                    "invalid numeric criterion {s:?} (expected \"[op] {}\" with op =, > or <)",
                    if float { "number" } else { "integer" }
                ),
            )
        };
        if value.is_empty() {
            return Err(bad());
        }
        let n = if float {
            Number::Float(value.parse::<f64>().map_err(|_| bad())?)
        } else {
            Number::Int(value.parse::<i64>().map_err(|_| bad())?)
        };
        Ok(match op {
            "=" => TraitCriterion::Equals(match n {
                Number::Int(i) => Constant::Int(i),
                Number::Float(f) => Constant::Float(f),
            }),
            ">" => TraitCriterion::Greater(n),
            "<" => TraitCriterion::Less(n),
            _ => return Err(bad()),
        })
    }

    fn constant(&self, field: &str, v: &Value) -> Result<Constant, String> {
        Ok(match v {
            Value::String(s) => Constant::Text {
                value: s.clone(),
                as_time: yaml_timestamp(s),
            },
            Value::Bool(b) => Constant::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Constant::Int(i),
                None => Constant::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            other => {
                return Err(self.err(
                    field,
                    &format!(
                        "must be a string, number or boolean to compare with, found {} \
                         (it would never match)",
                        kind(other)
                    ),
                ));
            }
        })
    }
}

/// A field's value, treating an explicit null as absent.
fn present<'m>(map: &'m Mapping, key: &str) -> Option<&'m Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn string_keys(map: &Mapping, at: &str, field: &str) -> Result<(), String> {
    match map.keys().find(|k| !k.is_string()) {
        None => Ok(()),
        Some(k) if field.is_empty() => Err(format!(
            "{at}: field names must be strings, found {}",
            show(k)
        )),
        Some(k) => Err(format!(
            "{at}: field '{field}': keys must be strings, found {}",
            show(k)
        )),
    }
}

fn whole_number(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n,
        _ => return None,
    };
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A short rendering of a value for messages.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => kind(other).to_string(),
    }
}

/// A YAML 1.1 timestamp (`2015-02-27 00:00:00`, `2015-02-27T00:00:00.5Z`, with an offset),
/// as naive UTC; date-only values are not datetimes (Python's `date` never equals one).
fn yaml_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dt%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").unwrap()
    }

    /// An event's owned parts; `view()` borrows them as the engine would.
    struct Ev {
        event_type: String,
        generated: NaiveDateTime,
        traits: BTreeMap<String, TraitValue>,
    }

    impl Ev {
        fn new(event_type: &str, generated: &str) -> Ev {
            Ev {
                event_type: event_type.into(),
                generated: dt(generated),
                traits: BTreeMap::new(),
            }
        }

        fn with(mut self, name: &str, value: TraitValue) -> Ev {
            self.traits.insert(name.into(), value);
            self
        }

        fn text(self, name: &str, value: &str) -> Ev {
            self.with(name, TraitValue::Text(value.into()))
        }

        fn view(&self) -> EventView<'_> {
            EventView {
                event_type: &self.event_type,
                generated: self.generated,
                traits: &self.traits,
            }
        }
    }

    fn one(yaml: &str) -> TriggerDefinition {
        let mut defs = load(yaml).unwrap();
        assert_eq!(defs.len(), 1);
        defs.remove(0)
    }

    fn criterion(yaml: &str) -> Criterion {
        let text = format!(
            "- name: t\n  expiration: $last + 1h\n  fire_pipeline: p\n  fire_criteria: []\n  \
             match_criteria:\n  - {}\n",
            yaml.replace('\n', "\n    ")
        );
        one(&text).match_criteria.remove(0)
    }

    fn load_err(yaml: &str) -> String {
        match load(yaml) {
            Err(e) => e,
            Ok(defs) => panic!("should not load: {defs:?}"),
        }
    }

    const EXAMPLE: &str = include_str!("../../../examples/stacktach/triggers.yaml");

    #[test]
    fn example_file_loads() {
        let (defs, warnings) = load_with_warnings(EXAMPLE).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let names: Vec<_> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            ["instance_usage", "request_trace", "large_build_failures"]
        );
        let usage = &defs[0];
        assert_eq!(usage.distinguished_by.len(), 2);
        assert_eq!(usage.distinguished_by[1].trait_name, "timestamp");
        assert_eq!(usage.expiration.source(), "$last + 1h");
        assert_eq!(usage.fire_pipeline.as_deref(), Some("usage_report"));
        assert_eq!(usage.match_criteria.len(), 2);
        assert_eq!(
            usage.match_criteria[1].map_distinguished_by["timestamp"],
            "audit_period_beginning"
        );
        assert_eq!(defs[1].fire_delay, 60);
        assert_eq!(defs[2].fire_criteria[0].number, 3);
        assert_eq!(
            defs[2].match_criteria[0].traits["memory_mb"],
            TraitCriterion::Greater(Number::Int(4096))
        );
    }

    #[test]
    fn instance_usage_example_end_to_end() {
        let defs = load(EXAMPLE).unwrap();
        let usage = &defs[0];
        let start = Ev::new(
            "compute.instance.create.start",
            "2015-02-27T13:45:18.603932",
        )
        .text("instance_id", "i-1");
        let exists = Ev::new("compute.instance.exists", "2015-02-28T00:10:00")
            .text("instance_id", "i-1")
            .with(
                "audit_period_beginning",
                TraitValue::Time(dt("2015-02-27T00:00:00")),
            );
        let other = Ev::new("compute.instance.delete.end", "2015-02-27T20:00:00");
        assert!(usage.matches(&start.view()));
        assert!(usage.matches(&exists.view()));
        assert!(!usage.matches(&other.view()), "no instance_id");

        let day = DistValue::Range(dt("2015-02-27T00:00:00"), dt("2015-02-28T00:00:00"));
        let key = vec![
            ("instance_id".to_string(), DistValue::Text("i-1".into())),
            ("timestamp".to_string(), day),
        ];
        assert_eq!(
            usage.distinguishing_values(&start.view()),
            Some(key.clone())
        );
        // the exists event, generated the next day, lands in the audited day's stream
        assert_eq!(usage.matching_criterion(&exists.view()), Some(1));
        assert_eq!(usage.distinguishing_values(&exists.view()), Some(key));

        assert!(!usage.should_fire(&[start.view()]));
        assert!(usage.should_fire(&[start.view(), exists.view()]));
        assert_eq!(
            usage.try_expire_time(start.generated, exists.generated, dt("2030-01-01T00:00:00")),
            Ok(dt("2015-02-28T01:10:00"))
        );
        assert_eq!(
            usage.expire_time(start.generated, exists.generated),
            dt("2015-02-28T01:10:00")
        );
        assert_eq!(
            defs[1].fire_time(dt("2015-02-28T00:00:00")),
            dt("2015-02-28T00:01:00")
        );
    }

    #[test]
    fn distinguishing_by_day_at_midnight_and_by_other_types() {
        let def = one("- name: t
  distinguished_by: [{timestamp: day}, host, memory_mb, launched_at, {launched_at_hour_: hour}]
  expiration: $first + 1d
  expire_pipeline: x
  match_criteria: [{map_distinguished_by: {launched_at_hour_: launched_at}}]
  fire_criteria: []
");
        // a distinguisher must be present under its own name, even when mapped (as winchester)
        let e = Ev::new("anything", "2015-02-27T00:00:00")
            .text("host", "h1")
            .with("memory_mb", TraitValue::Int(512))
            .with("launched_at", TraitValue::Time(dt("2015-02-26T23:59:59.5")));
        assert!(!def.matches(&e.view()));
        let e = e.with("launched_at_hour_", TraitValue::Int(0));
        assert_eq!(
            def.distinguishing_values(&e.view()).unwrap(),
            vec![
                ("host".to_string(), DistValue::Text("h1".into())),
                (
                    "launched_at".to_string(),
                    DistValue::Time(dt("2015-02-26T23:59:59.5"))
                ),
                (
                    "launched_at_hour_".to_string(),
                    DistValue::Range(dt("2015-02-26T23:00:00"), dt("2015-02-27T00:00:00"))
                ),
                ("memory_mb".to_string(), DistValue::Int(512)),
                (
                    "timestamp".to_string(),
                    DistValue::Range(dt("2015-02-27T00:00:00"), dt("2015-02-28T00:00:00"))
                ),
            ]
        );
        // a timex distinguisher over a trait that is not a time: no key
        let e = Ev::new("anything", "2015-02-27T00:00:00")
            .text("host", "h1")
            .with("memory_mb", TraitValue::Int(512))
            .with("launched_at", TraitValue::Time(dt("2015-02-26T23:59:59")))
            .text("launched_at_hour_", "x");
        assert!(def.matches(&e.view()));
        let d = def.distinguishing_values_for(&e.view(), 0).unwrap();
        assert_eq!(d.len(), 5);
    }

    #[test]
    fn missing_mapped_trait_gives_no_key() {
        let def = one("- name: t
  distinguished_by: [{timestamp: day}]
  expiration: $last + 1h
  fire_pipeline: p
  match_criteria:
  - event_type: compute.instance.exists
    map_distinguished_by: {timestamp: audit_period_beginning}
  fire_criteria: []
");
        let e = Ev::new("compute.instance.exists", "2015-02-28T00:10:00");
        assert!(def.matches(&e.view()));
        assert_eq!(def.distinguishing_values(&e.view()), None);
        let e = e.text("audit_period_beginning", "not a time");
        assert_eq!(def.distinguishing_values(&e.view()), None);
    }

    #[test]
    fn wildcard_matching() {
        for (pattern, name, want) in [
            ("compute.instance.*", "compute.instance.create.start", true),
            ("compute.instance.*", "compute.instance.", true),
            ("compute.instance.*", "compute.instance", false),
            ("*", "", true),
            ("*.end", "compute.instance.create.end", true),
            ("*.end", "compute.instance.create.end.x", false),
            ("compute.*.end", "compute.instance.delete.end", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            (
                "compute.instance.???ete.end",
                "compute.instance.delete.end",
                true,
            ),
            ("compute.instance.?", "compute.instance.", false),
            ("image.[ud]*", "image.update", true),
            ("image.[ud]*", "image.delete", true),
            ("image.[ud]*", "image.upload", true),
            ("image.[ud]*", "image.create", false),
            ("image.[!ud]*", "image.create", true),
            ("image.[!ud]*", "image.update", false),
            ("v[0-9]", "v7", true),
            ("v[0-9]", "vx", false),
            ("[]]x", "]x", true),
            ("[!]]x", "]x", false),
            ("[!]]x", "ax", true),
            ("[a-]", "-", true),
            ("a[b", "a[b", true),
            ("a[b", "ab", false),
            ("[^a]", "^", true),
            ("Compute.*", "compute.instance", false),
            ("exact.name", "exact.name", true),
            ("exact.name", "exactxname", false),
        ] {
            assert_eq!(fnmatch(name, pattern), want, "{pattern:?} vs {name:?}");
        }
        assert!(Pattern::new("[z-a]").is_err());
        assert!(!fnmatch("b", "[z-a]"));
    }

    #[test]
    fn event_type_lists_and_negation() {
        let c = criterion("event_type: [test.foo.*, \"!test.foo.bar\"]");
        let ok = |t: &str| c.event_type.matches(t);
        assert!(ok("test.foo.zazz"));
        assert!(!ok("test.foo.bar"));
        assert!(!ok("test.wakka.zazz"));
        // only exclusions: everything else
        let c = criterion("event_type: \"!test.foo.bar\"");
        assert!(c.event_type.matches("anything.at.all"));
        assert!(!c.event_type.matches("test.foo.bar"));
        // no event_type at all: everything, with winchester's defaults
        let c = criterion("{}");
        assert!(c.event_type.matches("x"));
        assert_eq!(c.number, 1);
        assert!(c.timestamp.is_none() && c.traits.is_empty());
        // an empty list matches nothing, as in winchester
        let c = criterion("event_type: []");
        assert!(!c.event_type.matches("x"));
    }

    #[test]
    fn trait_criteria_typed_comparisons() {
        let c = criterion(
            "traits:
  some_trait: test
  launched_at: {datetime: day}
  memory_mb: {int: \"> 2048\"}
  test_weight: {float: \"< 4.02\"}
  other_weight: {float: \"2.5\"}",
        );
        let good = || {
            Ev::new("test.thing", "2014-08-01T17:16:15.000014")
                .text("some_trait", "test")
                .with("launched_at", TraitValue::Time(dt("2014-08-01T01:02:03")))
                .with("memory_mb", TraitValue::Int(4096))
                .with("test_weight", TraitValue::Float(3.5))
                .with("other_weight", TraitValue::Int(2))
        };
        // 2 is not 2.5
        assert!(!c.matches(&good().view()));
        let e = good().with("other_weight", TraitValue::Float(2.5));
        assert!(c.matches(&e.view()));
        for (name, value) in [
            ("some_trait", TraitValue::Text("foo".into())),
            ("launched_at", TraitValue::Time(dt("2014-08-02T01:02:03"))),
            ("memory_mb", TraitValue::Int(1024)),
            ("memory_mb", TraitValue::Int(2048)),
            ("memory_mb", TraitValue::Text("8192".into())),
            ("test_weight", TraitValue::Float(6.5)),
            ("test_weight", TraitValue::Float(4.02)),
            (
                "launched_at",
                TraitValue::Text("2014-08-01T01:02:03".into()),
            ),
        ] {
            let e = good()
                .with("other_weight", TraitValue::Float(2.5))
                .with(name, value.clone());
            assert!(!c.matches(&e.view()), "{name} = {value:?}");
        }
        let mut e = good().with("other_weight", TraitValue::Float(2.5));
        e.traits.remove("memory_mb");
        assert!(!c.matches(&e.view()), "missing trait");

        // constants compare as Python's ==: numbers across int/float, never with strings
        let c = criterion("traits: {n: 5, f: 1.0, s: \"5\", b: true}");
        let e = Ev::new("x", "2014-08-01T00:00:00")
            .with("n", TraitValue::Float(5.0))
            .with("f", TraitValue::Int(1))
            .text("s", "5")
            .with("b", TraitValue::Int(1));
        assert!(c.matches(&e.view()));
        let e = e.with("n", TraitValue::Text("5".into()));
        assert!(!c.matches(&e.view()));

        // a datetime-looking string equals a time trait; `string:`/`text:` are constants too
        let c = criterion(
            "traits: {t: \"2015-02-27 00:00:00\", u: {string: abc}, v: {text: 7}, w: {int: 3}}",
        );
        let e = Ev::new("x", "2014-08-01T00:00:00")
            .with("t", TraitValue::Time(dt("2015-02-27T00:00:00")))
            .text("u", "abc")
            .with("v", TraitValue::Int(7))
            .with("w", TraitValue::Int(3));
        assert!(c.matches(&e.view()));

        // the pseudo-traits
        let c = criterion("traits: {event_type: compute.instance.exists}");
        assert!(c.matches(&Ev::new("compute.instance.exists", "2014-08-01T00:00:00").view()));
        assert!(!c.matches(&Ev::new("compute.instance.update", "2014-08-01T00:00:00").view()));
    }

    #[test]
    fn criterion_timestamp_uses_the_events_time_traits() {
        let c = criterion("timestamp: day($launched_at)");
        let e = Ev::new("test.thing", "2014-08-01T17:16:15")
            .with("launched_at", TraitValue::Time(dt("2014-08-01T01:02:03")));
        assert!(c.matches(&e.view()));
        let e = Ev::new("test.thing", "2014-08-02T17:16:15")
            .with("launched_at", TraitValue::Time(dt("2014-08-01T01:02:03")));
        assert!(!c.matches(&e.view()));
        // the referenced trait missing, or not a time: no match
        let e = Ev::new("test.thing", "2014-08-01T17:16:15");
        assert!(!c.matches(&e.view()));
        let e = e.text("launched_at", "2014-08-01T01:02:03");
        assert!(!c.matches(&e.view()));
    }

    #[test]
    fn fire_criteria_with_number_batch_and_incremental() {
        let def = one("- name: t
  expiration: $last + 1h
  fire_pipeline: p
  match_criteria: [{}]
  fire_criteria:
  - event_type: a.*
    number: 3
  - event_type: b
  - event_type: [a.x, b]
    number: 0
");
        let a = Ev::new("a.x", "2015-01-01T00:00:00");
        let b = Ev::new("b", "2015-01-01T00:00:00");
        let c = Ev::new("c", "2015-01-01T00:00:00");
        let cases: Vec<(Vec<&Ev>, bool)> = vec![
            (vec![], false),
            (vec![&a, &a, &a], false),
            (vec![&a, &b, &a], false),
            (vec![&a, &b, &a, &c, &a], true),
            (vec![&b, &a, &a, &a, &a, &a], true),
        ];
        for (events, want) in cases {
            let views: Vec<EventView> = events.iter().map(|e| e.view()).collect();
            assert_eq!(def.should_fire(&views), want, "{views:?}");
            let mut counts = vec![0u64; def.fire_criteria.len()];
            for v in &views {
                for i in def.fire_criterion_hits(v) {
                    counts[i] += 1;
                }
            }
            assert_eq!(def.fire_criteria_met(&counts), want, "{counts:?}");
        }
        assert_eq!(def.fire_criterion_hits(&a.view()), vec![0, 2]);
        assert_eq!(def.fire_criterion_hits(&b.view()), vec![1, 2]);
        assert!(def.fire_criterion_hits(&c.view()).is_empty());
        // no fire criteria: fires at once, as winchester's all() of nothing
        let def = one(
            "- name: t\n  expiration: $last + 1h\n  fire_pipeline: p\n  match_criteria: [{}]\n  \
             fire_criteria: []\n",
        );
        assert!(def.should_fire(&[]));
        assert!(def.fire_criteria_met(&[]));
    }

    #[test]
    fn winchester_style_file_with_misspelt_key_loads_with_a_warning() {
        let text = "---
- name: test_trigger
  debug_level: 2
  distinguished_by:
  - instance_id
  - timestamp: \"day\"
  expiration: \"$last + 1h\"
  fire_pipeline: \"test_pipeline\"
  expire_pipeline: \"test_expire_pipeline\"
  match_criteria:
  - event_type:
    - compute.instance.*
    - \"!compute.instance.exists\"
  - event_type: compute.instance.exists
    map_distingushed_by:
      timestamp: audit_period_beginning
  fire_criteria:
  - event_type: compute.instance.exists
";
        let (defs, warnings) = load_with_warnings(text).unwrap();
        assert_eq!(defs.len(), 1);
        assert!(defs[0].match_criteria[1].map_distinguished_by.is_empty());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("map_distingushed_by"), "{warnings:?}");
        assert!(warnings[0].contains("match_criteria[1]"), "{warnings:?}");
    }

    #[test]
    fn empty_file_is_no_triggers_and_merges_work() {
        assert!(load("").unwrap().is_empty());
        assert!(load("# nothing\n").unwrap().is_empty());
        assert!(load("[]").unwrap().is_empty());
        let defs = load(
            "- &base
  name: a
  expiration: $last + 1h
  fire_pipeline: p
  match_criteria: [{}]
  fire_criteria: [{}]
- <<: *base
  name: b
",
        )
        .unwrap();
        assert_eq!(defs[1].name, "b");
        assert_eq!(defs[1].expiration.source(), "$last + 1h");
    }

    #[test]
    fn yaml_errors_name_the_trigger_and_field() {
        const OK: &str = "  expiration: $last + 1h\n  fire_pipeline: p\n  match_criteria: [{}]\n  fire_criteria: [{}]\n";
        let with = |extra: &str| format!("- name: t1\n{OK}- name: t2\n{OK}{extra}");
        let cases: Vec<(String, &[&str])> = vec![
            ("- name: [unclosed\n".into(), &["invalid YAML", "line"]),
            ("name: t\n".into(), &["must be a YAML list", "a mapping"]),
            ("- just a string\n".into(), &["trigger #1", "must be a mapping"]),
            ("- expiration: $last\n".into(), &["trigger #1", "'name' is missing"]),
            (format!("- name: 12\n{OK}"), &["trigger #1", "'name' must be a string"]),
            (
                "- name: t\n  fire_pipeline: p\n  match_criteria: []\n  fire_criteria: []\n".into(),
                &["trigger \"t\" (#1)", "'expiration'", "required"],
            ),
            (
                format!("- name: t1\n{OK}- name: t1\n{OK}"),
                &["trigger \"t1\" (#2)", "duplicate name", "#1"],
            ),
            (
                "- name: t\n  expiration: $last + 1h\n  match_criteria: []\n  fire_criteria: []\n"
                    .into(),
                &["trigger \"t\" (#1)", "fire_pipeline", "expire_pipeline"],
            ),
            (
                "- name: t\n  expiration: $last + 1h\n  fire_pipeline: p\n  fire_criteria: []\n"
                    .into(),
                &["'match_criteria'", "required"],
            ),
            (
                "- name: t\n  expiration: $last + 1h\n  fire_pipeline: p\n  match_criteria: []\n"
                    .into(),
                &["'fire_criteria'", "required"],
            ),
            (
                "- name: t\n  expiration: $last + 1 day\n  fire_pipeline: p\n  match_criteria: []\n  fire_criteria: []\n"
                    .into(),
                &["trigger \"t\" (#1)", "'expiration'", "column"],
            ),
            (
                "- name: t\n  expiration: $end + 1h\n  fire_pipeline: p\n  match_criteria: []\n  fire_criteria: []\n"
                    .into(),
                &["'expiration'", "$end"],
            ),
            (
                with("  distinguished_by: [{timestamp: day, host: day}]\n"),
                &["trigger \"t2\" (#2)", "distinguished_by[0]", "only one trait"],
            ),
            (
                with("  distinguished_by: [{timestamp: day($launched_at)}]\n"),
                &["distinguished_by[0].timestamp", "$launched_at"],
            ),
            (
                with("  distinguished_by: [host, host]\n"),
                &["distinguished_by[1]", "twice"],
            ),
            (with("  distinguished_by: host\n"), &["distinguished_by", "list"]),
            (with("  fire_delay: soon\n"), &["fire_delay", "whole number"]),
            (
                with("  load_criteria: {event_type: x}\n"),
                &["load_criteria", "must be a list"],
            ),
        ];
        for (text, wants) in &cases {
            let err = load_err(text);
            for want in *wants {
                assert!(
                    err.contains(want),
                    "{text:?}\n  gave {err:?}\n  lacks {want:?}"
                );
            }
        }
        let crit = |c: &str| {
            format!(
                "- name: t\n  expiration: $last + 1h\n  fire_pipeline: p\n  match_criteria: []\n  fire_criteria:\n  - {c}\n"
            )
        };
        for (c, wants) in [
            (
                "compute.instance.exists",
                &["fire_criteria[0]", "must be a mapping"][..],
            ),
            (
                "{traits: {memory_mb: {numeric: \"> 4096\"}}}",
                &["fire_criteria[0].traits.memory_mb", "numeric", "int, float"],
            ),
            (
                "{traits: {memory_mb: {int: \">= 4096\"}}}",
                &["traits.memory_mb.int", "invalid numeric criterion"],
            ),
            (
                "{traits: {memory_mb: {int: \"> 4096.5\"}}}",
                &["traits.memory_mb.int", "integer"],
            ),
            (
                "{traits: {memory_mb: {int: \"\"}}}",
                &["traits.memory_mb.int"],
            ),
            (
                "{traits: {memory_mb: {int: 1, float: 2}}}",
                &["traits.memory_mb", "exactly one"],
            ),
            ("{traits: {flavor: [a, b]}}", &["traits.flavor", "a list"]),
            ("{traits: {flavor: ~}}", &["traits.flavor", "null"]),
            (
                "{traits: {at: {datetime: week}}}",
                &["traits.at.datetime", "unknown function"],
            ),
            ("{number: -1}", &["fire_criteria[0].number", "whole number"]),
            ("{number: 2.5}", &["fire_criteria[0].number"]),
            (
                "{timestamp: 5}",
                &["fire_criteria[0].timestamp", "a number"],
            ),
            (
                "{event_type: [a, 3]}",
                &["fire_criteria[0].event_type", "strings"],
            ),
            (
                "{event_type: \"[z-a]\"}",
                &["fire_criteria[0].event_type", "bad character range"],
            ),
            (
                "{map_distinguished_by: [a]}",
                &["map_distinguished_by", "mapping"],
            ),
        ] {
            let err = load_err(&crit(c));
            for want in wants {
                assert!(
                    err.contains(want),
                    "{c:?}\n  gave {err:?}\n  lacks {want:?}"
                );
            }
            assert!(err.starts_with("trigger \"t\" (#1)"), "{err}");
        }
    }
}
