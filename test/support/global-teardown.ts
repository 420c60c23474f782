/** Once per e2e run, after every test file. */
import { reportOpenApiContract } from './contract/openapi-teardown';
import { removeEmbeddedTemplates } from './embedded-templates';

export default function globalTeardown(): void {
  reportOpenApiContract();
  removeEmbeddedTemplates();
}
