/** Escapes text for an XML element or attribute (plist and WinSW files). */
export function xmlText (text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}
