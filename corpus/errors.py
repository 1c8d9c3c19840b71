"""Errors that reach users, each with a Korean message fit to show as is.

    QabotError                      user_message: Korean text for Telegram/CLI
    ├── DocumentRejected            a file or text that cannot become a document
    │   ├── UnsupportedFormat       extension we have no loader for
    │   ├── EmptyDocument           nothing left after extraction
    │   ├── BinaryContent           bytes that are not text in any known encoding
    │   ├── DamagedFile             a PDF or .docx whose structure cannot be read
    │   ├── TooLarge                over the size, page or unpacked-size limit
    │   ├── NoTextLayer             a PDF made of images only
    │   ├── TooManyChunks           would make more chunks than a document may have
    │   ├── XmlEntities             a docx whose XML declares entities (billion laughs)
    │   └── DuplicateDocument       same normalised text as an existing document
    ├── DocumentNotFound            no document with that id
    ├── InvalidQuestion             empty or too long a question
    └── StoreError                  the store cannot be opened or written

Lower layers raise these; front ends print `user_message` and never a traceback.
"""

from __future__ import annotations


class QabotError(Exception):
    """Base of every error a user may see."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class DocumentRejected(QabotError):
    """The input cannot become a document; nothing was changed."""


class UnsupportedFormat(DocumentRejected):
    def __init__(self, filename: str, supported: tuple[str, ...]) -> None:
        super().__init__(
            f"지원하지 않는 파일 형식입니다: {filename} "
            f"(지원 형식: {', '.join(supported)})"
        )


class EmptyDocument(DocumentRejected):
    def __init__(self, filename: str) -> None:
        super().__init__(f"내용이 비어 있는 문서입니다: {filename}")


class BinaryContent(DocumentRejected):
    def __init__(self, filename: str) -> None:
        super().__init__(
            f"텍스트로 읽을 수 없는 파일입니다: {filename} "
            "(UTF-8, UTF-16, CP949/EUC-KR 텍스트만 읽을 수 있습니다)"
        )


class DamagedFile(DocumentRejected):
    """A PDF or Word file that does not parse: the file is at fault, not a text encoding."""

    def __init__(self, filename: str) -> None:
        super().__init__(f"파일이 손상되었거나 읽을 수 없는 형식입니다: {filename}")


class TooLarge(DocumentRejected):
    def __init__(self, filename: str, detail: str) -> None:
        super().__init__(f"파일이 너무 큽니다: {filename} ({detail})")


class NoTextLayer(DocumentRejected):
    def __init__(self, filename: str) -> None:
        super().__init__(
            f"PDF에 텍스트 층이 없습니다(스캔 이미지로 보입니다): {filename}. "
            "텍스트를 선택할 수 있는 PDF로 다시 보내 주세요."
        )


class TooManyChunks(DocumentRejected):
    def __init__(self, cap: int) -> None:
        super().__init__(
            f"문서가 너무 잘게 나뉩니다: 구절이 최대 {cap:,}개를 넘어 추가하지 않았습니다. "
            "제목만 늘어선 줄이 아주 많은 문서인지 확인하거나, 여러 문서로 나누어 보내 주세요."
        )
        self.cap = cap


class XmlEntities(DocumentRejected):
    def __init__(self, filename: str) -> None:
        super().__init__(
            f"XML에 엔티티 선언(DOCTYPE)이 있는 문서는 읽지 않습니다: {filename} "
            "(엔티티를 겹겹이 펼치는 'billion laughs' 공격에 쓰이는 형식입니다). "
            "워드에서 다시 저장해 보내 주세요."
        )


class DuplicateDocument(DocumentRejected):
    def __init__(self, existing_id: str, existing_title: str) -> None:
        super().__init__(
            f"이미 같은 내용의 문서가 있습니다: {existing_title} (ID {existing_id})"
        )
        self.existing_id = existing_id


class DocumentNotFound(QabotError):
    def __init__(self, doc_id: str) -> None:
        super().__init__(f"해당 ID의 문서가 없습니다: {doc_id}")
        self.doc_id = doc_id


class InvalidQuestion(QabotError):
    """The question cannot be asked as it is; nothing was looked up."""


class StoreError(QabotError):
    """The store cannot be opened, migrated or written."""
