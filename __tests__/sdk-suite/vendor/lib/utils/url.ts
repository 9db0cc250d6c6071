// The SDK's tests require `../lib/utils/url`: here it is the installed SDK's.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS package without types
module.exports = require('@serverless/event-gateway-sdk/lib/utils/url');
