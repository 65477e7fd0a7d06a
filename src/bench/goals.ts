/** The goals for the five figures: reported by `bench`, never asserted. */
export interface Figures {
  ingest_ratio: number;
  correlator_ratio: number;
  memory_ratio: number;
  latency_s: number;
  apply_ratio: number;
}

export interface GoalResult {
  figure: keyof Figures;
  value: number;
  goal: string;
  /** False when the figure misses its goal or could not be measured (not a finite number). */
  pass: boolean;
}

export function goals(f: Figures, intervalS: number): GoalResult[] {
  const check = (figure: keyof Figures, goal: string, ok: (v: number) => boolean): GoalResult => ({ figure, value: f[figure], goal, pass: Number.isFinite(f[figure]) && ok(f[figure]) });
  return [
    check('ingest_ratio', '>= 0.67', (v) => v >= 0.67),
    check('correlator_ratio', '>= 0.7', (v) => v >= 0.7),
    check('memory_ratio', '<= 1.2', (v) => v <= 1.2),
    check('latency_s', `<= ${intervalS + 5} (interval + 5 s)`, (v) => v <= intervalS + 5),
    check('apply_ratio', '<= 0.2', (v) => v <= 0.2),
  ];
}
