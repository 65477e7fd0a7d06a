import { validateContent } from '../../src/content/validate';

describe('validate (offline)', () => {
  it('finds no problem in the shipped content, and at least eight golden cases per source', () => {
    const report = validateContent();
    expect(report.problems).toEqual([]);
    expect(report.checked.sources).toBeGreaterThanOrEqual(1);
    expect(report.checked.golden_cases).toBeGreaterThanOrEqual(8 * report.checked.sources);
  });
});
