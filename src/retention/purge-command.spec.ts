import { parsePurgeCommand } from './purge-command';
import { loadRetentionConfig } from '../config/retention-config';

describe('parsePurgeCommand', () => {
  const defaults = loadRetentionConfig({ RETENTION_DAYS: '45', RETENTION_BATCH_SIZE: '2000' });

  it('takes the period and batch size from the configuration by default', () => {
    expect(parsePurgeCommand([], defaults)).toEqual({ olderThanDays: 45, batchSize: 2000 });
  });

  it('reads --older-than and --batch-size', () => {
    expect(parsePurgeCommand(['--older-than', '30', '--batch-size', '100'], defaults)).toEqual({
      olderThanDays: 30,
      batchSize: 100,
    });
    expect(parsePurgeCommand(['--older-than=365'], defaults)).toEqual({
      olderThanDays: 365,
      batchSize: 2000,
    });
  });

  it.each([
    [['--older-than', '0'], '--older-than must be an integer from 1 to 36500, got "0".'],
    [['--older-than', '7d'], '--older-than must be an integer from 1 to 36500, got "7d".'],
    [['--older-than=-3'], '--older-than must be an integer from 1 to 36500, got "-3".'],
    [['--batch-size', '50'], '--batch-size must be an integer from 100 to 50000, got "50".'],
    [['--days', '30'], "Unknown option '--days'"],
    [['30'], "Unexpected argument '30'"],
  ])('refuses %j, with the usage', (argv, message) => {
    const parse = () => parsePurgeCommand(argv, defaults);
    expect(parse).toThrow(message);
    expect(parse).toThrow('Usage: npm run purge -- [--older-than <days>] [--batch-size <n>]');
  });
});
