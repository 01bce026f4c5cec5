from rest_framework import serializers

from forecasts.models import Forecast
from forecasts.presentation import describe_claim


class ForecastSerializer(serializers.ModelSerializer):
    strategist = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    strategist_name = serializers.CharField(source="strategist.name", read_only=True)
    firm = serializers.CharField(source="firm.name", read_only=True, default=None)
    instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True)
    other_instrument = serializers.SlugRelatedField(slug_field="symbol", read_only=True)
    source = serializers.SerializerMethodField()
    claim = serializers.SerializerMethodField()

    class Meta:
        model = Forecast
        fields = [
            "id",
            "strategist",
            "strategist_name",
            "firm",
            "source",
            "quote",
            "instrument",
            "kind",
            "target",
            "target_upper",
            "other_instrument",
            "basis",
            "made_at",
            "deadline",
            "deadline_source",
            "claim",
            "status",
            "status_note",
            "awaiting_data",
            "resolved_on",
            "resolution_price",
            "baseline",
            "baseline_date",
            "window_start",
            "window_end",
            "difficulty",
            "skill",
            "scorer_version",
            "void_reason",
        ]
        read_only_fields = fields

    def get_source(self, obj: Forecast) -> dict:
        s = obj.source
        return {"publication": s.publication, "url": s.url, "title": s.title, "published_at": s.published_at}

    def get_claim(self, obj: Forecast) -> str:
        return describe_claim(obj)
