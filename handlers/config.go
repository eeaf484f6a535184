package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sharethings/sharethings/api"
)

// uploadPath is the tus creation URL (PROTOCOL §5).
const uploadPath = apiPrefix + "/uploads/"

// ConfigResponse tells clients the limits they must respect.
type ConfigResponse struct {
	Version                   string `json:"version" example:"0.1.0"`
	MinKDFIterations          int    `json:"minKdfIterations" example:"100000"`
	MaxKDFIterations          int    `json:"maxKdfIterations" example:"10000000"`
	MinChunkSize              int    `json:"minChunkSize" example:"65536"`
	MaxChunkSize              int    `json:"maxChunkSize" example:"16777216"`
	DefaultChunkSize          int    `json:"defaultChunkSize" example:"4194304"`
	MaxItemBytes              int64  `json:"maxItemBytes"`
	SessionQuotaBytes         int64  `json:"sessionQuotaBytes"`
	SessionMaxItems           int    `json:"sessionMaxItems"`
	SessionIdleTimeoutSeconds int    `json:"sessionIdleTimeoutSeconds" example:"600"`
	JoinAttemptsPerMinute     int    `json:"joinAttemptsPerMinute" example:"10"`
	HeartbeatSeconds          int    `json:"heartbeatSeconds" example:"15"`
	UploadPath                string `json:"uploadPath" example:"/api/v1/uploads/"`
	// RetentionMaxAgeSeconds: unpinned items older than this are deleted; 0 keeps them.
	RetentionMaxAgeSeconds int `json:"retentionMaxAgeSeconds" example:"0"`
	// RetentionMaxItems: only this many newest unpinned items are kept per session; 0 is no limit.
	RetentionMaxItems int `json:"retentionMaxItems" example:"0"`
	// UploadExpirySeconds: an unfinished upload untouched this long is removed.
	UploadExpirySeconds int `json:"uploadExpirySeconds" example:"3600"`
} //@name Config

// getConfig godoc
//
//	@Summary		Server limits and parameters
//	@Description	Everything a client needs before creating a session or uploading: kdf bounds, chunk sizes, quotas (in encrypted bytes), timeouts and the tus creation URL.
//	@ID				getConfig
//	@Tags			server
//	@Produce		json
//	@Success		200	{object}	ConfigResponse
//	@Router			/api/v1/config [get]
func (s *Server) getConfig(c *gin.Context) {
	o := s.Options
	c.JSON(http.StatusOK, ConfigResponse{
		Version:                   api.Version,
		MinKDFIterations:          o.MinKDFIterations,
		MaxKDFIterations:          api.MaxKDFIterations,
		MinChunkSize:              api.MinChunkSize,
		MaxChunkSize:              o.MaxChunkSize,
		DefaultChunkSize:          o.DefaultChunkSize,
		MaxItemBytes:              o.MaxItemBytes,
		SessionQuotaBytes:         o.SessionQuotaBytes,
		SessionMaxItems:           o.SessionMaxItems,
		SessionIdleTimeoutSeconds: int(o.SessionIdleTimeout.Seconds()),
		JoinAttemptsPerMinute:     o.JoinAttemptsPerMinute,
		HeartbeatSeconds:          int(o.Heartbeat.Seconds()),
		UploadPath:                uploadPath,
		RetentionMaxAgeSeconds:    int(o.RetentionMaxAge.Seconds()),
		RetentionMaxItems:         o.RetentionMaxItems,
		UploadExpirySeconds:       int(o.UploadExpiry.Seconds()),
	})
}
