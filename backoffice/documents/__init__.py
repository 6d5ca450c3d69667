"""Documents: Word templates and rendering, and the durable documents the product issues.

Public pieces a feature uses:

* ``backoffice.documents.kinds``: :class:`DocumentKind` (key, label, variables, sample context,
  optional :class:`Numbering`, download permission and rule). A feature declares its kinds in
  its own ``<feature>/documents.py`` as ``DOCUMENT_KINDS = [DocumentKind(...)]``; they are
  found with ``backoffice.feature_modules("documents")`` on first use (``document_kinds()``),
  never registered as a side effect of an import.
* ``backoffice.documents.services``: ``render_document`` / ``render_documents_zip`` (the
  organisation's own template or the default ``templates/documents/<kind>.docx``), uploaded
  templates, ``organisation_context``.
* ``backoffice.documents.generated``: the durable documents (model ``GeneratedDocument`` in
  ``models.py``) — ``issue_document`` (inside a job: bytes → numbered, fingerprinted version
  stored under ``STORAGE_DIR/<organisation id>/documents/``, superseding the previous one),
  ``request_document`` + ``store_document`` (a pending version first), ``fail_document``,
  ``supersede``, ``mark_signed``, ``current_document`` / ``current_documents`` / ``versions``,
  ``allocate_number`` (per organisation, kind and optionally year, under a row lock, no gap),
  ``verify`` (SHA-256 of the file), ``may_download`` / ``send_document``. Task results expire
  after ``TASK_RESULT_DAYS``; these files are never touched by that expiry.
* The download route ``documents.download_document`` (``/o/<org>/documents/files/<id>``): the
  kind's ``download_permission`` in the document's organisation, or its ``may_download`` rule
  (a member and his own receipt); another organisation's document answers 404.
"""
