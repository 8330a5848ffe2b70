/**
 * Generates src/generated/api.ts, the TypeScript types of the REST API, from its contract
 * docs/rest-api.yaml (openapi-typescript). Run it after every change of the schema:
 *
 *   npm run gen:types            (writes src/generated/api.ts; commit it)
 *   node scripts/gen-types.mjs OUT   (writes OUT instead: the drift test compares the two)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import openapiTS, { astToString } from 'openapi-typescript';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCHEMA = resolve(HERE, '../../docs/rest-api.yaml');
const OUTPUT = resolve(process.argv[2] ?? resolve(HERE, '../src/generated/api.ts'));

const BANNER = `/**
 * Generated from docs/rest-api.yaml by \`npm run gen:types\` (labextension/scripts/gen-types.mjs,
 * openapi-typescript). Do not edit: change the schema and run it again. src/tokens.ts names
 * these types for the rest of the extension.
 */

`;

const ast = await openapiTS(pathToFileURL(SCHEMA), {
  // a field with a default may be left out of a request
  defaultNonNullable: false,
  // a free-form object (a notebook, a rule's options) is Record<string, unknown>, not never
  emptyObjectsUnknown: true
});
mkdirSync(dirname(OUTPUT), { recursive: true });
writeFileSync(OUTPUT, BANNER + astToString(ast));
console.log(`wrote ${relative(process.cwd(), OUTPUT) || OUTPUT}`);
