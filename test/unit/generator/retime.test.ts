import { communityId } from '../../../src/generator/community-id';
import { fixCommunityId, readdress } from '../../../src/generator/readdress';
import { buildFleet } from '../../../src/generator/fleet';
import { createRandom } from '../../../src/generator/random';
import { eventSpan, shiftTimes } from '../../../src/generator/retime';

describe('retiming', () => {
  it('moves every form of time a raw record holds, keeping fractions and zones as written', () => {
    const text = '{"ts":1764324000.123456,"EventTime":"2025-11-28 10:58:02","t":"2025-11-28T23:59:59.5-0500","ns":1764324065123456789,"ms":1764324000123} audit(1764324000.101:88410) <166>2025-11-28T12:00:00.000Z';
    expect(shiftTimes(text, 3600)).toBe(
      '{"ts":1764327600.123456,"EventTime":"2025-11-28 11:58:02","t":"2025-11-29T00:59:59.5-0500","ns":1764327665123456789,"ms":1764327600123} audit(1764327600.101:88410) <166>2025-11-28T13:00:00.000Z',
    );
  });

  it('leaves ids that only look like times alone (16-digit flow ids, hex, short numbers)', () => {
    const text = '{"flow_id":2087111222333444,"fp":"a1764324000b","pid":5120,"seq":88410}';
    expect(shiftTimes(text, 86400)).toBe(text);
  });

  it('finds the span of the events, not of certificate validity', () => {
    const span = eventSpan(['{"ts":1764324000.0,"not_before":1700000000.0}', '{"ts":1764324600.0,"not_after":2079388800.0}']);
    expect(span).toEqual({ start: 1764324000_000, end: 1764324600_000 });
  });
});

describe('re-addressing', () => {
  it('computes Community ID v1 as Suricata writes it', () => {
    expect(communityId('10.20.30.41', 52144, '93.184.216.34', 443, 'TCP')).toBe('1:aR3cjMRxRpUQgip7mXxlEc+14C4=');
    expect(communityId('93.184.216.34', 443, '10.20.30.41', 52144, 'tcp')).toBe('1:aR3cjMRxRpUQgip7mXxlEc+14C4=');
  });

  it('renames hosts and addresses everywhere, renews ids consistently and recomputes community ids', () => {
    const fleet = buildFleet();
    const host = fleet.attack.get('web')![0]!;
    const texts = [
      'node=web-01.corp.example type=SYSCALL msg=audit(1764324000.101:88410): pid=20377 comm="curl"',
      '{"_path":"ssl","uid":"CwbNre2bPkQVqvP3Tc","id.orig_h":"10.20.30.41","id.orig_p":52144}',
      '{"_path":"conn","uid":"CwbNre2bPkQVqvP3Tc","id.orig_h":"10.20.30.41","peer":"10.20.30.4"}',
      '{"src_ip":"10.20.30.41","src_port":52144,"dest_ip":"93.184.216.34","dest_port":443,"proto":"TCP","community_id":"1:aR3cjMRxRpUQgip7mXxlEc+14C4="}',
    ];
    const out = readdress(texts, new Map([['web', host]]), createRandom(1));
    expect(out[0]).toMatch(new RegExp(`^node=${host.name}\\.corp\\.example type=SYSCALL msg=audit\\(1764324000\\.101:88410\\): pid=(\\d+) comm="curl"$`));
    expect(out[0]).not.toContain('pid=20377');
    const uid = /"uid":"(\w+)"/.exec(out[1]!)![1];
    expect(uid).not.toBe('CwbNre2bPkQVqvP3Tc');
    expect(uid).toMatch(/^C\w{17}$/);
    expect(out[2]).toContain(`"uid":"${uid}"`);
    expect(out[2]).toContain(`"id.orig_h":"${host.ip}","peer":"10.20.30.4"`);
    expect(out[3]).toBe(fixCommunityId(out[3]!));
    // The client's ephemeral port is new, the same in the Zeek and the Suricata record; the service port stays.
    const port = Number(/"id.orig_p":(\d+)/.exec(out[1]!)![1]);
    expect(port).not.toBe(52144);
    expect(out[3]).toContain(`"src_port":${port},"dest_ip":"93.184.216.34","dest_port":443`);
    expect(out[3]).toContain(`"community_id":"${communityId(host.ip, port, '93.184.216.34', 443, 'tcp')}"`);
  });
});
