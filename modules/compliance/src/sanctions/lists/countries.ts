/**
 * Country names as the lists write them ("Russia", "Korea, North", "Iran (Islamic Republic of)",
 * "Russian") → ISO 3166-1 alpha-2, so they compare with the country a player registered in. The
 * English names come from ICU (Intl.DisplayNames); the lists' own spellings are added below.
 */
import anyAscii from 'any-ascii';

/** ISO codes ICU still names but that are withdrawn or not countries. */
const NOT_COUNTRIES = new Set(['BU', 'SU', 'VD', 'ZR', 'DD', 'YU', 'CS', 'TP', 'FX', 'AN', 'NT', 'QO', 'EU', 'EZ', 'UN', 'XA', 'XB', 'ZZ', 'DY', 'HV', 'NH', 'RH', 'YD']);

/** The lists' spellings and nationality adjectives that ICU's English names do not cover. */
const EXTRA: Record<string, string> = {
  'russian federation': 'RU', russian: 'RU', 'korea north': 'KP', 'north korea': 'KP', 'democratic peoples republic of korea': 'KP', 'korea dprk': 'KP', 'north korean': 'KP',
  'korea south': 'KR', 'republic of korea': 'KR', 'south korean': 'KR', 'iran islamic republic of': 'IR', iranian: 'IR', 'syrian arab republic': 'SY', syrian: 'SY',
  burma: 'MM', burmese: 'MM', 'congo democratic republic of the': 'CD', 'democratic republic of the congo': 'CD', 'congo republic of the': 'CG', 'republic of the congo': 'CG',
  'united states': 'US', 'united states of america': 'US', usa: 'US', american: 'US', uk: 'GB', 'united kingdom': 'GB', 'great britain': 'GB', british: 'GB',
  'venezuela bolivarian republic of': 'VE', venezuelan: 'VE', turkey: 'TR', turkish: 'TR', 'ivory coast': 'CI', 'cote divoire': 'CI', 'czech republic': 'CZ',
  macedonia: 'MK', 'west bank': 'PS', gaza: 'PS', palestinian: 'PS', 'lao peoples democratic republic': 'LA', 'viet nam': 'VN', 'moldova republic of': 'MD',
  'tanzania united republic of': 'TZ', 'bolivia plurinational state of': 'BO', afghan: 'AF', iraqi: 'IQ', libyan: 'LY', belarusian: 'BY', belarus: 'BY', ukrainian: 'UA',
  cuban: 'CU', chinese: 'CN', lebanese: 'LB', yemeni: 'YE', pakistani: 'PK', saudi: 'SA', egyptian: 'EG', sudanese: 'SD', somali: 'SO', nicaraguan: 'NI',
  zimbabwean: 'ZW', malian: 'ML', eritrean: 'ER', emirati: 'AE', german: 'DE', french: 'FR', cypriot: 'CY', israeli: 'IL', jordanian: 'JO', kuwaiti: 'KW',
  qatari: 'QA', turkmen: 'TM', uzbek: 'UZ', kazakh: 'KZ', georgian: 'GE', armenian: 'AM', azerbaijani: 'AZ', serbian: 'RS', bosnian: 'BA', kosovo: 'XK',
};

const key = (raw: string) => anyAscii(raw).toLowerCase().replace(/&/g, ' and ').replace(/[^a-z ]+/g, ' ').replace(/\s+/g, ' ').trim();

function buildIndex(): Map<string, string> {
  const index = new Map<string, string>();
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      if (NOT_COUNTRIES.has(code)) continue;
      let name: string | undefined;
      try {
        name = names.of(code);
      } catch {
        continue;
      }
      if (!name || name === code) continue;
      index.set(key(name), code);
      // "Myanmar (Burma)", "Congo - Kinshasa": each part names it too.
      for (const part of name.split(/[()-]/)) if (key(part).length > 3 && !index.has(key(part))) index.set(key(part), code);
    }
  }
  for (const [name, code] of Object.entries(EXTRA)) index.set(key(name), code);
  return index;
}

let index: Map<string, string> | undefined;

/** ISO alpha-2 of a country name, nationality or code; undefined when not recognised. */
export function countryCode(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (/^[A-Z]{2}$/.test(trimmed) && !NOT_COUNTRIES.has(trimmed)) return trimmed;
  index ??= buildIndex();
  return index.get(key(trimmed));
}

/** Codes of several names, deduplicated, unrecognised ones dropped. */
export function countryCodes(raw: readonly string[]): string[] {
  return [...new Set(raw.map(countryCode).filter((c): c is string => c !== undefined))];
}
