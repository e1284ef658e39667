/**
 * `@ds01/events-core/catalogue`: the event catalogue as values (TypeBox
 * schemas) and their ajv validation. Kept off the root entry because building
 * the TypeBox schemas costs more at start-up than the rest of a short command,
 * and writing an event needs only the catalogue's types.
 */
export {
  type EventCatalogue,
  type EventDetails,
  type EventSpec,
  type EventType,
  eventCatalogue,
  isCatalogued,
} from './event-types/index.js';
export { detailsSchemaOf, type ValidationResult, validateDetails, validateEvent } from './schemas.js';
