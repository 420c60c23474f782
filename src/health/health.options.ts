import type { OperationsConfig } from '../config/operations-config';

export type HealthOptions = OperationsConfig['health'];

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');
