/**
 * The fixed caption style templates the simulator offers. Their previews are served by the file
 * host (the placeholder MP4), as the real ones are served from a CDN.
 */
export interface CaptionTemplate {
  readonly id: string
  readonly name: string
  readonly createdAt: number
}

export const captionTemplates: ReadonlyArray<CaptionTemplate> = [
  { id: "ctpl_yvE0ZnYzEj6ClCD2ee1f", name: "Bold White", createdAt: 1730000000 },
  { id: "ctpl_DxflLOnuKkb198FNdI9E", name: "Karaoke Yellow", createdAt: 1730000600 },
  { id: "ctpl_3mQk8ZrTf0aHwLpX2sVb", name: "Minimal Lowercase", createdAt: 1730001200 },
  { id: "ctpl_Ng7cRt2WqYb5XeLs9KdP", name: "Neon Outline", createdAt: 1730001800 },
  { id: "ctpl_p4HvJm1SaUz6CoTi8GxE", name: "Classic Subtitle", createdAt: 1730002400 },
  { id: "ctpl_Wd9bEk3LrQn7YfMh2ZuA", name: "Pop Word-by-Word", createdAt: 1730003000 }
]

export const findCaptionTemplate = (id: string): CaptionTemplate | undefined => captionTemplates.find((template) => template.id === id)

/** The file host name of a template's preview. */
export const previewFileName = (template: CaptionTemplate): string => `preview-${template.id}.mp4`

/** `MACaptionTemplate` as the API answers it. */
export const captionTemplateView = (template: CaptionTemplate, fileBaseUrl: string) => ({
  id: template.id,
  object: "caption_template" as const,
  name: template.name,
  preview_url: `${fileBaseUrl}/files/${previewFileName(template)}`,
  created_at: template.createdAt
})
