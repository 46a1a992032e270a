// The order of a device's rules, decided by pure functions (docs/design.md, "Rule order"):
//   - within one scope (what the vendor evaluates as one ordered list: an interface, a rulebase, a rule
//     set), the managed rules go lower spec.priority first, equal priorities by namespace/name; rules
//     without a priority follow, in the order the appliance holds them (created last, they come last):
//     no order was asked of them, so they never cost a move among themselves;
//   - they form one block, at the top of the scope (default), at its bottom, or directly after an anchor
//     rule that nobody manages (VnfDevice spec.ruleOrder);
//   - from the order read back (one list), the fewest moves reach it: the managed rules already inside
//     the block's zone that form a longest increasing subsequence of the desired order stay where they
//     are, every other managed rule moves once, next to a rule that is already in place. Nothing that is
//     not ours ever moves.
// On appliances that order rules by a number (OPNsense sequence, VyOS rule numbers) a move is a new
// number between the numbers of its new neighbours; when two neighbours leave no room, the block's
// neighbouring rules are renumbered too (more moves, still only managed rules).

export interface OrderedRule {
  /** namespace/name: the stable tie-break, and how effects find the rule again. */
  key: string;
  /** spec.priority; undefined sorts after every priority. */
  priority?: number | undefined;
}

/**
 * Lower priority first, no priority last; equal priorities by namespace/name. Two rules without a
 * priority are equal: a stable sort keeps them in the order it was given (the appliance's).
 */
export function compareRules(a: OrderedRule, b: OrderedRule): number {
  if (a.priority === undefined && b.priority === undefined) return 0;
  const pa = a.priority ?? Number.POSITIVE_INFINITY;
  const pb = b.priority ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Where the managed block sits among the rules of a scope that nobody manages. */
/**
 * Where the managed rules sit among the rules nobody manages: Keep (default) leaves each where it is
 * relative to them and orders the managed rules among themselves (a moved rule goes next to its
 * managed neighbour); Top, Bottom and After make them one block there.
 */
export type Placement = { at: "Keep" } | { at: "Top" } | { at: "Bottom" } | { at: "After"; anchor: string };

/** One appliance object of the scope, as the bulk list read it, in the appliance's order. */
export interface OrderObject {
  vendorRef: string;
  scope: string;
  /** The managed rule this object is, or undefined: nobody manages it (it never moves). */
  rule?: OrderedRule;
  /** Neither moved nor in the way (ours, but its rule is being deleted or gone). */
  ignored?: boolean;
  /** Numbered ordering: the number the appliance orders it by. */
  number?: number;
  /** The object is the anchor the placement names. */
  anchor?: boolean;
}

/** Numbered ordering: the range moves may use, the spacing of new numbers, numbers to avoid. */
export interface NumberSpace {
  min: number;
  max: number;
  /** Distance between consecutive new numbers when there is room (10 for VyOS, 100 for OPNsense). */
  step: number;
  /** Numbers a new one must not take (VyOS: every rule number in use or reserved on the device). */
  taken?: ReadonlySet<number>;
}

export interface OrderMove {
  /** The rule's key (namespace/name). */
  rule: string;
  vendorRef: string;
  scope: string;
  where: "before" | "after";
  /** The vendorRef of the object it goes next to (already in its final place when the move runs). */
  pivot: string;
  /** Numbered ordering: the rule's new number. */
  number?: number;
  /** Set on a rule that is in order but renumbered to make room (not drift). */
  room?: true;
}

export interface OrderPlan {
  /** In the order they must run. */
  moves: OrderMove[];
  /** Each managed rule's 1-based position in its scope once the moves ran. */
  positions: Map<string, number>;
  /** Scopes that cannot be ordered (no free numbers): said on the device. */
  problems: string[];
}

export interface OrderInput {
  objects: OrderObject[];
  placement: Placement;
  /** Present when the appliance orders by number. */
  numbers?: NumberSpace;
}

export function planOrder(input: OrderInput): OrderPlan {
  const plan: OrderPlan = { moves: [], positions: new Map(), problems: [] };
  const taken = new Set(input.numbers?.taken ?? []);
  for (const [scope, listed] of byScope(input.objects)) {
    const all = input.numbers ? sortByNumber(listed) : listed;
    planScope(scope, all, input, taken, plan);
  }
  return plan;
}

function planScope(
  scope: string,
  all: OrderObject[],
  input: OrderInput,
  taken: Set<number>,
  plan: OrderPlan,
): void {
  const numbers = input.numbers;
  // What takes part: managed rules, and the unmanaged ones in the way (for numbered ordering, those
  // numbered inside the range the operator may use; an administrator's rule 10 on VyOS is simply first).
  const items = all.filter(
    (o) =>
      !o.ignored &&
      (o.rule !== undefined ||
        !numbers ||
        (o.number !== undefined && o.number >= numbers.min && o.number <= numbers.max)),
  );
  const managed = items.filter((o) => o.rule !== undefined);
  if (managed.length === 0) return;
  const desired = [...managed].sort((a, b) => compareRules(a.rule as OrderedRule, b.rule as OrderedRule));
  const rank = new Map(desired.map((o, i) => [o, i]));

  const zone = zoneOf(items, input.placement);
  const inZone = items.slice(zone.start, zone.end).filter((o) => o.rule !== undefined);
  const fixed = new Set(longestIncreasing(inZone, (o) => rank.get(o) as number));

  const moves: Array<OrderMove & { object: OrderObject }> = [];
  const firstFixed = desired.find((o) => fixed.has(o));
  desired.forEach((object, i) => {
    if (fixed.has(object)) return;
    const previous = desired[i - 1];
    let where: "before" | "after";
    let pivot: OrderObject;
    if (previous !== undefined) {
      [where, pivot] = ["after", previous];
    } else if (firstFixed !== undefined) {
      [where, pivot] = ["before", firstFixed];
    } else {
      // Nothing of ours is in place: go to the block's place among the others (there is another
      // object, else the one managed rule would be in place).
      [where, pivot] = emptyZonePivot(items, zone, input.placement);
    }
    moves.push({
      rule: (object.rule as OrderedRule).key,
      vendorRef: object.vendorRef,
      scope,
      where,
      pivot: pivot.vendorRef,
      object,
    });
  });

  let final = applyMoves(all, moves);
  if (numbers) {
    const planned = moves.length;
    const numbered = numberMoves(final, items, moves, desired, numbers, taken, scope);
    if (typeof numbered === "string") {
      plan.problems.push(numbered);
      return;
    }
    final = sortByNumber(all.map((o) => numbered.get(o) ?? o));
    for (const move of moves) move.number = numbered.get(move.object)?.number;
    // No room between neighbours made this plan renumber rules that were in place: spread the whole
    // block over its room once now (n moves), so that later changes move one rule each again.
    const spread = moves.length > planned ? respread(final, numbers, taken) : undefined;
    if (spread) {
      const renumbered = new Map<OrderObject, number>();
      for (const [copy, number] of spread) renumbered.set(originalOf(copy, all), number);
      const byObject = new Map(moves.map((m) => [m.object, m]));
      const sequence = final.filter((o) => spread.has(o));
      sequence.forEach((copy, i) => {
        const object = originalOf(copy, all);
        const number = spread.get(copy) as number;
        const existing = byObject.get(object);
        if (existing) {
          existing.number = number;
          return;
        }
        if (number === copy.number) return;
        const neighbour = sequence[i - 1] ?? sequence[i + 1];
        const move = {
          rule: (object.rule as OrderedRule).key,
          vendorRef: object.vendorRef,
          scope,
          where: (sequence[i - 1] ? "after" : "before") as "after" | "before",
          pivot: neighbour ? originalOf(neighbour, all).vendorRef : object.vendorRef,
          number,
          room: true as const,
          object,
        };
        moves.push(move);
        byObject.set(object, move);
      });
      for (const number of spread.values()) taken.add(number);
      final = sortByNumber(
        all.map((o) => {
          const number = renumbered.get(o);
          if (number !== undefined) return { ...o, number };
          return numbered.get(o) ?? o;
        }),
      );
    }
  }
  for (const move of moves) {
    const { object: _object, ...rest } = move;
    plan.moves.push(rest);
  }
  final.forEach((o, i) => {
    if (o.rule !== undefined && !o.ignored) plan.positions.set(o.rule.key, i + 1);
  });
}

interface Zone {
  start: number;
  /** Exclusive. */
  end: number;
}

/** The stretch of `items` the block must occupy: bounded by unmanaged rules, never containing one. */
function zoneOf(items: OrderObject[], placement: Placement): Zone {
  const unmanaged = items.flatMap((o, i) => (o.rule === undefined ? [i] : []));
  const top = (): Zone => ({ start: 0, end: unmanaged[0] ?? items.length });
  switch (placement.at) {
    case "Keep":
      return { start: 0, end: items.length };
    case "Top":
      return top();
    case "Bottom":
      return { start: (unmanaged.at(-1) ?? -1) + 1, end: items.length };
    case "After": {
      const anchor = items.findIndex((o) => o.rule === undefined && o.anchor);
      // A scope without the anchor keeps its block on top.
      if (anchor < 0) return top();
      return { start: anchor + 1, end: unmanaged.find((i) => i > anchor) ?? items.length };
    }
  }
}

function emptyZonePivot(
  items: OrderObject[],
  zone: Zone,
  placement: Placement,
): ["before" | "after", OrderObject] {
  // The zone holds no managed rule; it is bounded by an unmanaged one on at least one side.
  if (placement.at === "Top" || zone.start === 0) return ["before", items[zone.end] as OrderObject];
  return ["after", items[zone.start - 1] as OrderObject];
}

/** The list after the moves, run in order (each relative to an object already placed). */
function applyMoves(
  list: OrderObject[],
  moves: Array<{ object: OrderObject; where: string; pivot: string }>,
) {
  const out = [...list];
  for (const move of moves) {
    out.splice(out.indexOf(move.object), 1);
    const at = out.findIndex((o) => o.vendorRef === move.pivot);
    out.splice(move.where === "before" ? at : at + 1, 0, move.object);
  }
  return out;
}

/**
 * New numbers for the moved objects of a scope, fitted between the numbers of the objects that stay;
 * a run of moved objects without room takes its managed neighbours along (they move too). Returns the
 * renumbered copies, or why the scope cannot be ordered.
 */
function numberMoves(
  final: OrderObject[],
  items: OrderObject[],
  moves: Array<OrderMove & { object: OrderObject }>,
  desired: OrderObject[],
  numbers: NumberSpace,
  taken: Set<number>,
  scope: string,
): Map<OrderObject, OrderObject> | string {
  const inPlay = new Set(items);
  const sequence = final.filter((o) => inPlay.has(o));
  const moving = new Set(moves.map((m) => m.object));
  // Every number the scope holds stays taken while the moves run (a renumbered VyOS rule keeps its
  // old number until its own move): new numbers never tie with one, nor with each other.
  const held = new Set(taken);
  for (const o of final) if (o.number !== undefined) held.add(o.number);
  for (;;) {
    const assigned = new Map<OrderObject, OrderObject>();
    const used = new Set(held);
    let blocked: { run: OrderObject[]; before?: OrderObject; after?: OrderObject } | undefined;
    let i = 0;
    while (i < sequence.length) {
      if (!moving.has(sequence[i] as OrderObject)) {
        i++;
        continue;
      }
      const start = i;
      while (i < sequence.length && moving.has(sequence[i] as OrderObject)) i++;
      const run = sequence.slice(start, i);
      const before = sequence[start - 1];
      const after = sequence[i];
      const fitted = fitNumbers(run.length, before?.number, after?.number, numbers, used);
      if (fitted === undefined) {
        blocked = { run, ...(before ? { before } : {}), ...(after ? { after } : {}) };
        break;
      }
      run.forEach((o, j) => {
        const number = fitted[j] as number;
        used.add(number);
        assigned.set(o, { ...o, number });
      });
    }
    if (!blocked) {
      for (const [, o] of assigned) taken.add(o.number as number);
      return assigned;
    }
    // No room: widen the run over a managed neighbour (it moves as well), the one on the side with the
    // smaller gap beyond it first; unmanaged neighbours and the range's ends cannot give way.
    const grow = [blocked.after, blocked.before].filter(
      (o): o is OrderObject => o !== undefined && o.rule !== undefined,
    );
    if (grow.length === 0) {
      const lo = blocked.before?.number ?? numbers.min - 1;
      const hi = blocked.after?.number ?? numbers.max + 1;
      return `scope ${scope || "(all)"}: no free number between ${lo} and ${hi} for ${blocked.run.length} rule(s); renumber by hand or free numbers in ${numbers.min}-${numbers.max}`;
    }
    const neighbour = grow[0] as OrderObject;
    moving.add(neighbour);
    const at = desired.indexOf(neighbour);
    const previous = desired[at - 1];
    const next = desired[at + 1];
    const [where, pivot] = previous
      ? (["after", previous] as const)
      : (["before", next ?? neighbour] as const);
    moves.push({
      rule: (neighbour.rule as OrderedRule).key,
      vendorRef: neighbour.vendorRef,
      scope,
      where,
      pivot: pivot.vendorRef,
      // In its place: renumbered only to make room for its neighbour.
      room: true,
      object: neighbour,
    });
  }
}

/** The object a renumbered copy was made from (copies keep the vendorRef). */
function originalOf(copy: OrderObject, all: OrderObject[]): OrderObject {
  return all.find((o) => o === copy) ?? (all.find((o) => o.vendorRef === copy.vendorRef) as OrderObject);
}

/**
 * New numbers for the whole block, evenly spread between the numbers of the rules around it (step
 * apart when the top is open), avoiding every number in use; undefined when the block does not fit.
 */
function respread(
  final: OrderObject[],
  numbers: NumberSpace,
  taken: ReadonlySet<number>,
): Map<OrderObject, number> | undefined {
  const managed = final.filter((o) => o.rule !== undefined && !o.ignored);
  if (managed.length < 2) return undefined;
  const first = final.indexOf(managed[0] as OrderObject);
  const last = final.indexOf(managed.at(-1) as OrderObject);
  const inRange = (o: OrderObject | undefined) =>
    o !== undefined && o.number !== undefined && o.number >= numbers.min && o.number <= numbers.max;
  const before = final.slice(0, first).findLast((o) => o.rule === undefined && inRange(o));
  const after = final.slice(last + 1).find((o) => o.rule === undefined && inRange(o));
  const used = new Set(taken);
  for (const o of final) if (o.number !== undefined) used.add(o.number);
  const fitted = fitNumbers(managed.length, before?.number, after?.number, numbers, used);
  if (!fitted) return undefined;
  return new Map(managed.map((o, i) => [o, fitted[i] as number]));
}

/**
 * `count` increasing free integers strictly between lo and hi (either may be open), spread evenly when
 * bounded, `step` apart from lo when the top is open; undefined when they do not fit.
 */
export function fitNumbers(
  count: number,
  lo: number | undefined,
  hi: number | undefined,
  numbers: NumberSpace,
  used: ReadonlySet<number>,
): number[] | undefined {
  const low = Math.max(lo ?? numbers.min - 1, numbers.min - 1);
  const high = Math.min(hi ?? numbers.max + 1, numbers.max + 1);
  const out: number[] = [];
  if (hi === undefined) {
    // Open above: step by step (skipping numbers in use), as an administrator numbers rules.
    // Room is left below the first one too (a rule may later go before it).
    let n = low + numbers.step;
    while (out.length < count && n < high) {
      if (!used.has(n)) out.push(n);
      n += numbers.step;
    }
    if (out.length === count) return out;
    out.length = 0;
  }
  // Bounded: evenly spaced targets, each moved to the nearest free integer above the previous one.
  let previous = low;
  for (let j = 1; j <= count; j++) {
    const target = Math.max(previous + 1, Math.round(low + ((high - low) * j) / (count + 1)));
    let n = target;
    while (n < high && used.has(n)) n++;
    // Leave room for the ones still to place.
    if (n >= high - (count - j)) return undefined;
    out.push(n);
    previous = n;
  }
  return out;
}

/** The longest strictly increasing subsequence of `list` by `key` (patience sorting, O(n log n)). */
export function longestIncreasing<T>(list: readonly T[], key: (item: T) => number): T[] {
  const tails: number[] = []; // index in list of the smallest tail of each length
  const previous: number[] = new Array(list.length).fill(-1);
  list.forEach((item, i) => {
    const k = key(item);
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(list[tails[mid] as number] as T) < k) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) previous[i] = tails[lo - 1] as number;
    tails[lo] = i;
  });
  const out: T[] = [];
  for (let i = tails.at(-1) ?? -1; i >= 0; i = previous[i] as number) out.unshift(list[i] as T);
  return out;
}

function byScope(objects: OrderObject[]): Map<string, OrderObject[]> {
  const out = new Map<string, OrderObject[]>();
  for (const o of objects) {
    const list = out.get(o.scope);
    if (list) list.push(o);
    else out.set(o.scope, [o]);
  }
  return out;
}

/** Stable: equal numbers keep the order they were listed in (as the appliance breaks the tie). */
function sortByNumber(list: OrderObject[]): OrderObject[] {
  return list
    .map((o, i) => ({ o, i }))
    .sort((a, b) => (a.o.number ?? 0) - (b.o.number ?? 0) || a.i - b.i)
    .map(({ o }) => o);
}
