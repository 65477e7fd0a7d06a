/**
 * A full garbage collection before a measured run, so that its sampled peak heap is the run's own
 * and not garbage left by what ran before. `--expose-gc` switched on at run time.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}
