import { blockedAddressReason, checkLiteralHost, guardedLookup } from './webhook-target';

describe('webhook targets', () => {
  it('blocks link-local addresses whatever the configuration', () => {
    for (const address of ['169.254.169.254', '169.254.0.1', 'fe80::1', '::ffff:169.254.169.254'])
      expect(blockedAddressReason(address, true)).toMatch(/link-local/);
  });

  it('blocks loopback and private ranges unless allowed', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fd00::1',
      '::ffff:127.0.0.1',
    ]) {
      expect([address, blockedAddressReason(address, false)]).toEqual([
        address,
        expect.stringMatching(/private/),
      ]);
      expect(blockedAddressReason(address, true)).toBeNull();
    }
  });

  // Found by the outside attack pass: these reached loopback and the metadata address.
  it('judges an IPv6 address by the IPv4 address it carries (compatible, mapped, translated, NAT64, 6to4)', () => {
    for (const address of [
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::169.254.169.254',
      '64:ff9b:1::a9fe:a9fe',
      '::a9fe:a9fe',
      '::ffff:0:a9fe:a9fe',
      '2002:a9fe:a9fe::1',
      '0:0:0:0:0:ffff:a9fe:a9fe',
    ])
      expect([address, blockedAddressReason(address, true)]).toEqual([
        address,
        expect.stringMatching(/link-local/),
      ]);
    for (const address of [
      '64:ff9b::7f00:1',
      '::7f00:1',
      '::ffff:0:7f00:1',
      '2002:7f00:1::1',
      '2002:a00:1::',
    ])
      expect([address, blockedAddressReason(address, false)]).toEqual([
        address,
        expect.stringMatching(/private/),
      ]);
    for (const address of ['64:ff9b::808:808', '2002:808:808::1'])
      expect(blockedAddressReason(address, false)).toBeNull();
  });

  it('lets public addresses through', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '172.32.0.1'])
      expect(blockedAddressReason(address, false)).toBeNull();
  });

  it('checks IP literals in URLs (never looked up) and the addresses a name resolves to', async () => {
    expect(() => checkLiteralHost('[::1]', false)).toThrow(/private/);
    expect(() => checkLiteralHost('169.254.169.254', true)).toThrow(/link-local/);
    expect(() => checkLiteralHost('example.com', false)).not.toThrow();
    const lookup = (allow: boolean) =>
      new Promise<unknown>((resolve, reject) =>
        guardedLookup(allow)('localhost', { all: true }, (err, address) =>
          err ? reject(err) : resolve(address),
        ),
      );
    await expect(lookup(false)).rejects.toThrow(/Blocked target localhost/);
    await expect(lookup(true)).resolves.toEqual(
      expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]),
    );
  });
});
