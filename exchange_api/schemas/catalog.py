"""Catalogue entries (政务信息资源目录) and their versions."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field

from exchange_api.schemas.common import AnchorPublic, Strict

# 分类码 (类 1 digit, 项 2, 目 3, 细目 optional) "/" 顺序码 (GB/T 21063, 编制指南 2017).
CODE_PATTERN = r"^[1-3][0-9]{2}[0-9]{3}[0-9A-Z]{0,12}/[0-9]{1,12}$"


class ShareType(StrEnum):
    """共享类型."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NOT_SHAREABLE = "not_shareable"  # 不予共享


class OpenType(StrEnum):
    """开放类型."""

    OPEN = "open"  # 无条件开放
    ON_APPLICATION = "on_application"  # 有条件(依申请)开放
    NOT_OPEN = "not_open"  # 不予开放


class ResourceFormat(StrEnum):
    """格式."""

    ELECTRONIC_FILE = "electronic_file"  # 电子文件
    SPREADSHEET = "spreadsheet"  # 电子表格
    DATABASE = "database"  # 数据库
    GRAPHIC_IMAGE = "graphic_image"  # 图形图像
    STREAMING_MEDIA = "streaming_media"  # 流媒体
    SELF_DESCRIBING = "self_describing"  # 自描述格式
    SERVICE_INTERFACE = "service_interface"  # 服务接口


class ShareMethod(StrEnum):
    """共享方式."""

    INTERFACE = "interface"  # 接口
    DATABASE_TABLE = "database_table"  # 库表
    FILE = "file"  # 文件


class UpdateCycle(StrEnum):
    """更新周期."""

    REALTIME = "realtime"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"
    IRREGULAR = "irregular"


class DataGrade(StrEnum):
    """数据分级 (GB/T 43697-2024)."""

    CORE = "core"  # 核心数据
    IMPORTANT = "important"  # 重要数据
    GENERAL = "general"  # 一般数据


class DataType(StrEnum):
    """数据类型 of an information item."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"
    BINARY = "binary"


class Classification(Strict):
    """信息资源分类: 类 (1 digit: 1 basic, 2 thematic, 3 departmental), 项, 目, optional 细目."""

    category: str = Field(pattern=r"^[1-3]$")
    item: str = Field(pattern=r"^[0-9]{2}$")
    catalog: str = Field(pattern=r"^[0-9]{3}$")
    subcatalog: str | None = Field(default=None, pattern=r"^[0-9A-Z]{1,12}$")

    def code(self) -> str:
        """The 分类码 these parts make."""
        return self.category + self.item + self.catalog + (self.subcatalog or "")


class InfoItem(Strict):
    """信息项: a column name and its data type."""

    name: str = Field(min_length=1, max_length=100)
    data_type: DataType
    description: str | None = Field(default=None, max_length=500)


class ResourceFields(Strict):
    """The catalogue fields of one version (everything but the code and provider)."""

    classification: Classification
    name: str = Field(min_length=1, max_length=200, description="信息资源名称")
    summary: str = Field(min_length=1, max_length=4000, description="摘要")
    format: ResourceFormat
    items: list[InfoItem] = Field(min_length=1, max_length=500)
    share_type: ShareType
    share_conditions: str | None = Field(
        default=None,
        max_length=4000,
        description="Conditions of a conditional share, or the legal basis of a not-shareable one.",
    )
    share_methods: list[ShareMethod] = Field(default_factory=list, max_length=3)
    open_type: OpenType
    update_cycle: UpdateCycle
    release_date: dt.date
    data_grade: DataGrade
    related_codes: list[str] = Field(default_factory=list, max_length=50)


class ResourceCreate(ResourceFields):
    """A new catalogue entry (version 1); the provider is the calling department."""

    code: str = Field(pattern=CODE_PATTERN, description="信息资源代码: 分类码/顺序码")


class ResourceVersionCreate(ResourceFields):
    """A new version of an existing entry (same code and provider)."""


class ResourceWithdraw(Strict):
    """Withdrawal of an entry; history is kept."""

    reason: str = Field(min_length=1, max_length=2000)


class ProviderPublic(BaseModel):
    """The providing department (提供方 and 提供方代码)."""

    id: str
    name: str
    uscc: str


class VersionPublic(BaseModel):
    """One version with its hashes and anchor."""

    version: int
    metadata_hash: str
    previous_hash: str | None
    created_at: dt.datetime
    anchor: AnchorPublic


class ResourcePublic(ResourceFields):
    """A catalogue entry as shown: current fields, provider, status and the current version."""

    code: str
    provider: ProviderPublic
    status: str
    current_version: VersionPublic
    created_at: dt.datetime
    updated_at: dt.datetime
    withdrawn_at: dt.datetime | None
    withdraw_reason: str | None


class ResourcePage(BaseModel):
    """One page of search results; `next_cursor` continues (also in the `Link` header)."""

    items: list[ResourcePublic]
    next_cursor: str | None
