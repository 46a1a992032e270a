// The firmware version the simulator plays ("v7.4.5"), as numbers, for behaviour that changed between
// releases.
export type Firmware = readonly [number, number, number];

export function parseFirmware(version: string): Firmware {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) throw new Error(`FortiOS version ${version} is not like v7.4.5`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function compareFirmware(a: Firmware, b: Firmware): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
