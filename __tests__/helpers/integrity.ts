/** Expects every stored subscription to name a function stored in its space (nothing dangles). */
export function expectNoDanglingSubscriptions(stored: Record<string, string>): void {
  for (const [key, value] of Object.entries(stored)) {
    const match = /^(.*)\/subscriptions\/([^/]+)\/[^/]+$/.exec(key);
    if (!match) continue;
    const functionKey = `${match[1]}/functions/${match[2]}/${JSON.parse(value).functionId}`;
    expect({ subscription: key, functionStored: functionKey in stored }).toEqual({
      subscription: key,
      functionStored: true,
    });
  }
}
