// Request schemas of the demand loop.
import { Type } from 'typebox';
import { Obj, PatchObj } from '../../platform/http.ts';
import { CHANNELS, DEMAND_STATUSES, DEMAND_TYPES, RATINGS } from './demand.states.ts';

export const Id = Type.Integer({ minimum: 1, maximum: 9007199254740991 });
const lit = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' });
const Note = Type.Optional(Type.String({ maxLength: 1000 }));
const Lng = Type.Number({ minimum: -180, maximum: 180 });
const Lat = Type.Number({ minimum: -90, maximum: 90 });
const CategoryCode = Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$' });
export const PhotoId = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const PhotoIds = Type.Optional(Type.Array(PhotoId, { maxItems: 9 }));
export const TrackingCode = Type.String({ pattern: '^[A-HJ-NP-Z2-9]{10}$' });
const DateString = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });

const reportFields = {
  type: lit(DEMAND_TYPES),
  category: CategoryCode,
  title: Type.Optional(Type.String({ maxLength: 100 })),
  description: Text(2000),
  lng: Type.Optional(Lng),
  lat: Type.Optional(Lat),
  address: Type.Optional(Type.String({ maxLength: 200 })),
  houseId: Type.Optional(Id),
  unitId: Type.Optional(Id),
  reporterName: Type.Optional(Type.String({ maxLength: 40 })),
  reporterPhone: Type.Optional(Type.String({ maxLength: 30 })),
  clientKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$', description: "the device's idempotency key (a UUID): sending the same report twice makes one case" })),
  photoIds: PhotoIds,
  photoToken: Type.Optional(Type.String({ maxLength: 64 })),
};

/** A report by an account: staff on any channel they may use, residents on their own. */
export const ReportBody = Obj({
  ...reportFields,
  channel: lit(CHANNELS.filter((c) => c !== 'open311')),
  emergency: Type.Optional(Type.Boolean()),
  sourceRef: Type.Optional(Type.String({ maxLength: 100 })),
  hazardId: Type.Optional(Id),
});

/** A resident without an account: their own report, or an order for party members (群众点单). */
export const PublicReportBody = Obj({ ...reportFields, channel: Type.Optional(lit(['resident', 'member_order'] as const)) });

export const NearbyQuery = Obj({ category: CategoryCode, lng: Lng, lat: Lat, radius: Type.Optional(Type.Integer({ minimum: 10, maximum: 2000 })), excludeId: Type.Optional(Id) });

export const QueueQuery = Obj({
  unitId: Type.Optional(Id),
  status: Type.Optional(Type.Array(lit(DEMAND_STATUSES), { maxItems: 10 })),
  category: Type.Optional(CategoryCode),
  channel: Type.Optional(lit(CHANNELS)),
  overdue: Type.Optional(Type.Boolean()),
  emergency: Type.Optional(Type.Boolean()),
  q: Type.Optional(Type.String({ maxLength: 60 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
});

export const Handler = Type.Union([
  Obj({ type: Type.Literal('unit'), unitId: Id }),
  Obj({ type: Type.Literal('member'), memberId: Id }),
  Obj({ type: Type.Literal('linked_org'), linkedOrgId: Id }),
  Obj({ type: lit(['department', 'council'] as const), name: Text(60) }),
]);

export const NoteBody = Obj({ note: Note });
export const RegisterBody = Obj({ note: Note, claimable: Type.Optional(Type.Boolean()) });
export const ReasonBody = Obj({ reason: Text(500) });
export const ReturnBody = Obj({ reason: Text(500), beyondAuthority: Type.Optional(Type.Boolean()) });
export const MergeBody = Obj({ intoId: Id, note: Note });
export const RerouteBody = Obj({ unitId: Id, note: Note });
export const DispatchBody = Obj({ handler: Handler, note: Note });
export const BulkDispatchBody = Obj({ ids: Type.Array(Id, { minItems: 1, maxItems: 100 }), handler: Handler, note: Note });
export const HandleBody = Obj({ result: Text(2000), photoIds: PhotoIds });
export const VerifyBody = Obj({ fixed: Type.Boolean(), note: Note, photoIds: PhotoIds });
export const CloseBody = Obj({ note: Note, resolved: Type.Optional(Type.Boolean()) });
export const RateBody = Obj({ rating: lit(RATINGS), resolved: Type.Boolean(), comment: Type.Optional(Type.String({ maxLength: 500 })) });

export const MetricsQuery = Obj({ unitId: Id, from: DateString, to: DateString, category: Type.Optional(CategoryCode) });

export const CategoryPatch = PatchObj({
  respondMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 * 24 * 365 })),
  finishMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 * 24 * 365 })),
  warnPercent: Type.Optional(Type.Integer({ minimum: 1, maximum: 99 })),
  emergency: Type.Optional(Type.Boolean()),
  decideKinds: Type.Optional(Type.Union([Type.Array(Type.String({ pattern: '^[a-z][a-z0-9_]{1,39}$' }), { maxItems: 20 }), Type.Null()])),
  active: Type.Optional(Type.Boolean()),
});
export const CategoryParam = Obj({ code: CategoryCode });

export const CalendarBody = Obj({
  weekdays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7 }),
  periods: Type.Array(Obj({ start: Type.String({ pattern: '^\\d{2}:\\d{2}$' }), end: Type.String({ pattern: '^\\d{2}:\\d{2}$' }) }), { minItems: 1, maxItems: 6 }),
  overrides: Type.Record(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), lit(['holiday', 'workday'] as const), { maxProperties: 1000 }),
});

export const InboxQuery = Obj({ unread: Type.Optional(Type.Boolean()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })), before: Type.Optional(Id) });
export const ReadBody = Obj({ ids: Type.Union([Type.Array(Id, { maxItems: 500 }), Type.Literal('all')]) });
export const PhotoParams = Obj({ id: Id, photoId: PhotoId });
export const PublicPhotoParams = Obj({ code: TrackingCode, photoId: PhotoId });
export const ThumbQuery = Obj({ thumb: Type.Optional(Type.Boolean()) });
export const CodeParam = Obj({ code: TrackingCode });
