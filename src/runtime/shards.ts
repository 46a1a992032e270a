// Sharding decisions as pure functions: which shard an object belongs to (a stable hash of its key),
// and which live replica should own each shard. Every replica computes the same answer from the same
// member list: shards go, in order, to the member that scores them highest (rendezvous hashing)
// among those below their fair share (ceil(shards / members)), so the load is even and a member
// joining or leaving moves few shards.

/**
 * FNV-1a over the text, then murmur3's finaliser (FNV alone barely moves its high bits for a change in
 * the last character, which rendezvous scores are made of). 32 bits, stable across processes.
 */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The shard (0 … shards-1) of an object key such as "namespace/name". */
export function shardOf(key: string, shards: number): number {
  return stableHash(key) % shards;
}

/** The owner of every shard (index = shard) among `members`; empty with no member. */
export function assignShards(shards: number, members: readonly string[]): string[] {
  if (members.length === 0) return [];
  const capacity = Math.ceil(shards / members.length);
  const load = new Map(members.map((m) => [m, 0]));
  const owners: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const ranked = [...members].sort(
      (a, b) => stableHash(`${shard}/${b}`) - stableHash(`${shard}/${a}`) || (a < b ? -1 : 1),
    );
    const owner = ranked.find((m) => (load.get(m) ?? 0) < capacity) ?? ranked[0]!;
    load.set(owner, (load.get(owner) ?? 0) + 1);
    owners.push(owner);
  }
  return owners;
}
