// The official SDK's (@serverless/event-gateway-sdk 0.11.0) own test suite, vendored unchanged in
// vendor/tests/, run against our command: see README.md in this folder for what differs.
jest.mock('sinon', () => jest.requireActual('./sinon-stub'), { virtual: true });

// Each file runs in its own describe block, so its beforeAll/afterAll (a gateway each) are its own.
const files = [
  'connections',
  'cors',
  'emit',
  'eventTypes',
  'functions',
  'index',
  'subscriptions',
  'utils.headers.injectToken',
  'utils.url.joinUrlWithPath',
];

beforeEach(() => expect.hasAssertions());

for (const file of files) {
  describe(`${file}.test.js`, () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the vendored tests are CommonJS
    require(`./vendor/tests/${file}.test.js`);
  });
}
