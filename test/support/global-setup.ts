/** Once per e2e run, before any test file: the OpenAPI contract's document and the embedded templates. */
import { setUpOpenApiContract } from './contract/openapi-setup';
import { createEmbeddedTemplates } from './embedded-templates';

export default async function globalSetup(): Promise<void> {
  await setUpOpenApiContract();
  await createEmbeddedTemplates();
}
