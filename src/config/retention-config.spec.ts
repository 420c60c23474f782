import { ConfigError } from './app-config';
import { loadRetentionConfig } from './retention-config';

describe('loadRetentionConfig', () => {
  it('purges completed activities older than 90 days every hour, 5000 items a statement, by default', () => {
    expect(loadRetentionConfig({})).toEqual({
      enabled: true,
      days: 90,
      intervalMinutes: 60,
      batchSize: 5000,
    });
  });

  it('reads every variable', () => {
    expect(
      loadRetentionConfig({
        RETENTION_ENABLED: 'false',
        RETENTION_DAYS: '30',
        RETENTION_INTERVAL_MINUTES: '1440',
        RETENTION_BATCH_SIZE: ' 1000 ',
      }),
    ).toEqual({ enabled: false, days: 30, intervalMinutes: 1440, batchSize: 1000 });
  });

  it.each([
    ['RETENTION_ENABLED', 'yes', 'RETENTION_ENABLED must be true or false, got "yes".'],
    ['RETENTION_ENABLED', 'TRUE', 'RETENTION_ENABLED must be true or false, got "TRUE".'],
    ['RETENTION_DAYS', '0', 'RETENTION_DAYS must be an integer from 1 to 36500, got "0".'],
    ['RETENTION_DAYS', '90d', 'RETENTION_DAYS must be an integer from 1 to 36500, got "90d".'],
    ['RETENTION_DAYS', '-5', 'RETENTION_DAYS must be an integer from 1 to 36500, got "-5".'],
    [
      'RETENTION_INTERVAL_MINUTES',
      '0',
      'RETENTION_INTERVAL_MINUTES must be an integer from 1 to 10080, got "0".',
    ],
    [
      'RETENTION_INTERVAL_MINUTES',
      '1.5',
      'RETENTION_INTERVAL_MINUTES must be an integer from 1 to 10080, got "1.5".',
    ],
    ['RETENTION_BATCH_SIZE', '99', 'RETENTION_BATCH_SIZE must be an integer from 100 to 50000, got "99".'],
    [
      'RETENTION_BATCH_SIZE',
      '50001',
      'RETENTION_BATCH_SIZE must be an integer from 100 to 50000, got "50001".',
    ],
  ])('refuses %s=%j, naming the variable', (name, value, message) => {
    const load = () => loadRetentionConfig({ [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });
});
