// The SDK's tests require `../lib/index` (the SDK's own source): here it is the installed SDK.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS package without types
module.exports = require('@serverless/event-gateway-sdk/lib/index');
