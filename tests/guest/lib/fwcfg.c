/* QEMU fw_cfg: selector 0x510 (16-bit), data 0x511 (8-bit), DMA 0x514 (BE). */
#include "lib.h"

#define FW_CFG_PORT_SEL  0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA  0x514

void fw_cfg_select(uint16_t key) { outw(FW_CFG_PORT_SEL, key); }

void fw_cfg_read(void *buf, uint32_t len)
{
    uint8_t *p = buf;
    while (len--) *p++ = inb(FW_CFG_PORT_DATA);
}

void fw_cfg_read_item(uint16_t key, void *buf, uint32_t len)
{
    fw_cfg_select(key);
    fw_cfg_read(buf, len);
}

uint32_t fw_cfg_read32(uint16_t key)
{
    uint32_t v;
    fw_cfg_read_item(key, &v, 4);
    return v;
}

uint64_t fw_cfg_read64(uint16_t key)
{
    uint64_t v;
    fw_cfg_read_item(key, &v, 8);
    return v;
}

bool fw_cfg_present(void)
{
    char sig[4];
    fw_cfg_read_item(FW_CFG_SIGNATURE, sig, 4);
    return !memcmp(sig, "QEMU", 4);
}

uint16_t fw_cfg_find_file(const char *name, uint32_t *size)
{
    uint32_t count;
    fw_cfg_select(FW_CFG_FILE_DIR);
    fw_cfg_read(&count, 4);
    count = bswap32(count);
    for (uint32_t i = 0; i < count; i++) {
        struct fw_cfg_file f;
        fw_cfg_read(&f, sizeof(f));
        if (!strncmp(f.name, name, sizeof(f.name))) {
            if (size) *size = bswap32(f.size);
            return bswap16(f.select);
        }
    }
    return 0;
}

struct fw_cfg_dma_access {
    uint32_t control;               /* big-endian */
    uint32_t length;
    uint64_t address;
} __attribute__((packed, aligned(16)));

#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08

bool fw_cfg_dma_read(uint16_t key, void *buf, uint32_t len)
{
    static struct fw_cfg_dma_access acc;
    uint32_t ctl = FW_CFG_DMA_CTL_READ;
    if (key != 0xffff)
        ctl |= FW_CFG_DMA_CTL_SELECT | ((uint32_t)key << 16);
    acc.control = bswap32(ctl);
    acc.length = bswap32(len);
    acc.address = bswap64((uintptr_t)buf);
    barrier();
    uint64_t a = (uintptr_t)&acc;
    /* 64-bit BE address: high half at 0x514, low half at 0x518 (write triggers) */
    outl(FW_CFG_PORT_DMA, bswap32((uint32_t)(a >> 32)));
    outl(FW_CFG_PORT_DMA + 4, bswap32((uint32_t)a));
    uint64_t d = tsc_deadline_ms(1000);
    for (;;) {
        uint32_t c = bswap32(__atomic_load_n(&acc.control, __ATOMIC_SEQ_CST));
        if (c & FW_CFG_DMA_CTL_ERROR) return false;
        if (!(c & ~FW_CFG_DMA_CTL_ERROR)) return true;
        if (tsc_expired(d)) return false;
        pause();
    }
}
