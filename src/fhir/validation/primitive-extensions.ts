// Which primitive elements have a JSON `_x` sibling for their id and extensions (json.html#primitive).
// Two do not, in the R4 definitions: Element.id (element.html: a System.String, an XML attribute that
// cannot carry extensions) and the narrative's xhtml (xhtml.profile: `xhtml.extension` is 0..0). The
// resource's own id keeps `_id`: its XML form is an `id` element of the FHIR id type.
import { isResourceType } from '../../registry/resource-types.js';

/** True when the primitive element `name` (of FHIR type `type`) in `group` may have a `_name` object. */
export function takesExtensions(group: string, name: string, type: string): boolean {
  if (type === 'xhtml') return false;
  return name !== 'id' || isResourceType(group);
}
