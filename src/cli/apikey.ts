import { ApiError } from '../execution-items';
import {
  API_KEY_USAGE,
  UsageError,
  describeCommandError,
  parseApiKeyCommand,
  runApiKeyCommand,
} from '../auth/api-keys/api-key-command';
import { ApiKeysModule } from '../auth/api-keys/api-keys.module';
import { ApiKeysService } from '../auth/api-keys/api-keys.service';
import { runCli, withCliContext } from './cli-context';

/** `npm run apikey -- create|list|revoke`: manages API keys in the service's database. */
async function main(): Promise<void> {
  const command = parseApiKeyCommand(process.argv.slice(2));
  if (command.command === 'help') {
    process.stdout.write(`${API_KEY_USAGE}\n`);
    return;
  }
  const output = await withCliContext(
    () => [ApiKeysModule.forRoot({ cacheSeconds: 0 })],
    (app) => runApiKeyCommand(command, app.get(ApiKeysService)),
  );
  process.stdout.write(output);
}

runCli(main, (error) => {
  if (error instanceof UsageError) return `${error.message}\n\n${API_KEY_USAGE}`;
  if (error instanceof ApiError) return describeCommandError(error);
  return error instanceof Error ? error.message : String(error);
});
