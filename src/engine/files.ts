import { existsSync, readFileSync } from 'node:fs';

export { PACKAGE_ROOT } from '../package-info';

export function tailLines(file: string, count: number): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-count);
}
