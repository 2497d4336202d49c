/**
 * The signed-in person's own account: what the token says, plus, for accounts of this issuer, their
 * profile decrypted for them alone and whether they have an authenticator; and the one change a
 * player makes to it here, their postal address.
 */
import { Problems, type Principal } from '@verity/kernel';
import { PLAYER_ADDRESS_CHANGED_V1, type AddressDto, type MeDto, type PlayerAddressChangedV1Data } from './contracts.ts';
import { actorOf, IdentityProblems, type Deps } from './shared.ts';

export function createProfile(deps: Deps) {
  const { db, repo, crypto, clock, audit, events, config } = deps;

  function tokenView(p: Principal): MeDto {
    return {
      subject: p.subject,
      kind: p.kind,
      roles: [...p.roles],
      permissions: [...p.permissions].sort(),
      amr: [...p.amr],
      authTime: new Date(p.authTime * 1000).toISOString(),
      issuer: p.issuer,
    };
  }

  async function me(p: Principal): Promise<MeDto> {
    const view = tokenView(p);
    if (p.issuer !== config.publicUrl || p.kind === 'service') return view;
    const found = await repo.accountWithProfile(p.subject);
    if (!found) return view;
    const { account, player: r, operator: o } = found;
    view.mfaEnabled = account.mfaActive;
    if (r) {
      const [email, legalName, dateOfBirth, address] = await Promise.all([r.emailEnc, r.legalNameEnc, r.dateOfBirthEnc, r.addressEnc].map((c) => crypto.decrypt(account.id, c)));
      view.player = { email: email!, legalName: legalName!, dateOfBirth: dateOfBirth!, address: JSON.parse(address!) as AddressDto, country: r.country };
    } else if (o) {
      const [email, displayName] = await Promise.all([crypto.decrypt(account.id, o.emailEnc), crypto.decrypt(account.id, o.displayNameEnc)]);
      view.operator = { email, displayName };
    }
    return view;
  }

  /**
   * Replaces the player's postal address (encrypted again under their own data key). The country of
   * registration (the jurisdiction) does not follow it: moving country is a KYC matter.
   */
  async function updateMyAddress(p: Principal, address: AddressDto): Promise<{ address: AddressDto }> {
    if (p.issuer !== config.publicUrl) throw IdentityProblems.externalAccount();
    const account = await repo.account(p.subject);
    if (!account || account.kind !== 'player') throw Problems.notFound('player');
    if (account.status !== 'active') throw IdentityProblems.accountInactive();
    const before = await repo.playerProfile(account.id);
    if (!before) throw Problems.notFound('player');
    const previous = JSON.parse(await crypto.decrypt(account.id, before.addressEnc)) as AddressDto;
    const addressEnc = await crypto.encrypt(account.id, JSON.stringify(address));
    const changedAt = await clock.now();
    await db.tx(async () => {
      if (!(await repo.setPlayerAddress(account.id, addressEnc))) throw Problems.notFound('player');
      const data: PlayerAddressChangedV1Data = { playerId: account.id, changedAt: changedAt.toISOString() };
      await events.publish({ type: PLAYER_ADDRESS_CHANGED_V1, subject: account.id, data });
      // No address in the record: the audit log is not a place for personal data.
      await audit.record({ actor: actorOf(account), action: 'identity.player-address-changed', subject: actorOf(account), data: { countryChanged: previous.country !== address.country } });
    });
    return { address };
  }

  return { me, updateMyAddress };
}

export type Profile = ReturnType<typeof createProfile>;
