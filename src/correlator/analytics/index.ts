/** The five analytics of DET0543, by id. */
import type { AnalyticFn, AnalyticId } from '../types';
import { an1496 } from './an1496';
import { an1497 } from './an1497';
import { an1498 } from './an1498';
import { an1499 } from './an1499';
import { an1500 } from './an1500';

export const ANALYTIC_FUNCTIONS: Record<AnalyticId, AnalyticFn> = { AN1496: an1496, AN1497: an1497, AN1498: an1498, AN1499: an1499, AN1500: an1500 };
