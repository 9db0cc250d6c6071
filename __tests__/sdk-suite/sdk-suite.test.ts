// The official SDK's (@serverless/event-gateway-sdk 0.11.0) own test suite, vendored unchanged in
// vendor/tests/, run against our command: see README.md in this folder for what differs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

jest.mock('sinon', () => jest.requireActual('./sinon-stub'), { virtual: true });

/** Each vendored file and its git blob id at the SDK's tag v0.11.0 (`git ls-tree v0.11.0 tests/`). */
const files: Record<string, string> = {
  connections: 'b926bad33c365e9cc3e27dc1cae8f721d105f3a8',
  cors: '43cc1989fdd0a25f77dcecdb732b6c2cf745a4ba',
  emit: '4f8f5940cb83999129fb9760cc726be55bd99109',
  eventTypes: 'cec3353a0defde760a22ceeed09be0a8ce76c1a5',
  functions: '76fcf1236ec548c24e133672d76f0bbf35ac9d05',
  index: '5562418c408b978467d9b54f6163e9a830d1110d',
  subscriptions: 'dc8ad16a78739294bef6b2dd3036b699fae67473',
  'utils.headers.injectToken': '48eebe5e11f21ddcd0d1ee4c6629c4c1c4623fb1',
  'utils.url.joinUrlWithPath': '9199f4575437323e3bc6a164df267945a0dd781d',
};

/** A file's git blob id: what `git hash-object` prints. */
function blobId(path: string): string {
  const content = readFileSync(path);
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

// Only setup may differ from the SDK's suite (README.md): its test files stay byte for byte.
test('the vendored test files are the SDK 0.11.0 ones, unchanged', () => {
  for (const [file, id] of Object.entries(files)) {
    expect([file, blobId(join(__dirname, 'vendor', 'tests', `${file}.test.js`))]).toEqual([
      file,
      id,
    ]);
  }
});

// Many SDK tests assert only in `.catch`: a request 0.9 refused and we accept must fail, not pass empty.
beforeEach(() => expect.hasAssertions());

// Each file runs in its own describe block, so its beforeAll/afterAll (a gateway each) are its own.
for (const file of Object.keys(files)) {
  describe(`${file}.test.js`, () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the vendored tests are CommonJS
    require(`./vendor/tests/${file}.test.js`);
  });
}
