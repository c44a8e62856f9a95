/*
 * Intel 82540EM Gigabit Ethernet controller ("e1000", 8086:100e), after
 * Intel's PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual (8254x SDM) and QEMU's behaviour (docs/net.md).
 *
 * BAR0: 128 KiB of 32-bit registers (below).  BAR1: 64 bytes of I/O,
 * IOADDR (0) selects a register, IODATA (4) reads or writes it.
 *
 *   0x0000 CTRL     RST (bit 26) resets the MAC, SLU, PHY_RST
 *   0x0008 STATUS   FD, LU (link up), speed 1000
 *   0x0010 EECD     Microwire EEPROM, bit-banged: SK 0, CS 1, DI 2, DO 3,
 *                   REQ 6, GNT 7, PRES 8
 *   0x0014 EERD     START 0, DONE 4, ADDR 15:8, DATA 31:16
 *   0x0020 MDIC     DATA 15:0, REG 20:16, PHY 25:21, OP 27:26 (1 write,
 *                   2 read), READY 28, IE 29, ERROR 30
 *   0x00c0 ICR      interrupt causes; reading clears them
 *   0x00c4 ITR      interrupt throttling interval, 256 ns units
 *   0x00c8 ICS      sets causes;  0x00d0 IMS sets mask bits;  0x00d8 IMC clears them
 *   0x0100 RCTL     EN 1, SBP 2, UPE 3, MPE 4, LPE 5, LBM 7:6, RDMTS 9:8,
 *                   MO 13:12, BAM 15, BSIZE 17:16, BSEX 25, SECRC 26
 *   0x0400 TCTL     EN 1, PSP 3
 *   0x2800.. RDBAL RDBAH RDLEN RDH RDT RDTR(0x2820) RADV(0x282c)
 *   0x3800.. TDBAL TDBAH TDLEN TDH TDT TIDV(0x3820) TADV(0x382c)
 *   0x4000-0x40ff   statistics, cleared by reading
 *   0x5200-0x53ff   MTA, multicast hash table (128 dwords)
 *   0x5400-0x547f   RAL/RAH pairs (16), AV = RAH bit 31
 *   0x5600-0x57ff   VFTA
 *
 * Interrupt causes (ICR): TXDW 0, TXQE 1, LSC 2, RXDMT0 4, RXO 6, RXT0 7,
 * MDAC 9.  INTA# is asserted while ICR & IMS is not zero; with ITR
 * non-zero a new assertion waits until ITR * 256 ns after the previous one
 * (QEMU's mitigation, whose RDTR/RADV/TADV handling we simplify: those
 * registers are stored but do not delay).
 *
 * Descriptors are 16 bytes.  Receive: buffer address, length, checksum,
 * status (DD 0, EOP 1, IXSM 2), errors, special.  Transmit: legacy
 * (address, length, CSO, CMD: EOP 0, IFCS 1, IC 2, RS 3, RPS 4, DEXT 5;
 * status DD 0), or with DEXT a context descriptor (DTYP 0: checksum
 * offsets, TSO's MSS and header length) or a data descriptor (DTYP 1:
 * POPTS IXSM/TXSM, DCMD TSE).  Descriptors and buffers are read and
 * written only where guest RAM is: elsewhere reads give zeros and writes
 * go nowhere.  A ring is walked at most once per doorbell, so a bad tail
 * cannot make the device loop.
 */
#include <string.h>
#include <glib.h>
#include "hw/pci/pci.h"
#include "hw/platform-desc.h"
#include "net/net.h"
#include "qemu/log.h"
#include "system/main-loop.h"

#define E1000_MMIO_SIZE 0x20000
#define E1000_IO_SIZE   0x40

/* registers (byte offsets) */
#define CTRL    0x0000
#define STATUS  0x0008
#define EECD    0x0010
#define EERD    0x0014
#define CTRL_EXT 0x0018
#define MDIC    0x0020
#define FCAL    0x0028
#define FCAH    0x002c
#define FCT     0x0030
#define VET     0x0038
#define ICR     0x00c0
#define ITR     0x00c4
#define ICS     0x00c8
#define IMS     0x00d0
#define IMC     0x00d8
#define RCTL    0x0100
#define FCTTV   0x0170
#define TXCW    0x0178
#define RXCW    0x0180
#define TCTL    0x0400
#define TIPG    0x0410
#define LEDCTL  0x0e00
#define PBA     0x1000
#define FCRTL   0x2160
#define FCRTH   0x2168
#define RDBAL   0x2800
#define RDBAH   0x2804
#define RDLEN   0x2808
#define RDH     0x2810
#define RDT     0x2818
#define RDTR    0x2820
#define RADV    0x282c
#define RSRPD   0x2c00
#define TDBAL   0x3800
#define TDBAH   0x3804
#define TDLEN   0x3808
#define TDH     0x3810
#define TDT     0x3818
#define TIDV    0x3820
#define TXDCTL  0x3828
#define TADV    0x382c
#define STATS_START 0x4000
#define STATS_END   0x4100
#define RXCSUM  0x5000
#define MTA     0x5200
#define MTA_END 0x5400
#define RA      0x5400
#define RA_END  0x5480
#define VFTA    0x5600
#define VFTA_END 0x5800
#define WUC     0x5800
#define WUFC    0x5808
#define MANC    0x5820

/* statistics (cleared on read; 64-bit pairs clear when the high half is read) */
#define MPC     0x4010
#define GPRC    0x4074
#define BPRC    0x4078
#define MPRC    0x407c
#define GPTC    0x4080
#define GORCL   0x4088
#define GORCH   0x408c
#define GOTCL   0x4090
#define GOTCH   0x4094
#define RNBC    0x40a0
#define TORL    0x40c0
#define TORH    0x40c4
#define TOTL    0x40c8
#define TOTH    0x40cc
#define TPR     0x40d0
#define TPT     0x40d4
#define MPTC    0x40f0
#define BPTC    0x40f4

#define CTRL_SLU        (1u << 6)
#define CTRL_RST        (1u << 26)
#define CTRL_PHY_RST    (1u << 31)
#define STATUS_FD       (1u << 0)
#define STATUS_LU       (1u << 1)
#define STATUS_SPEED_1000 (2u << 6)

#define EECD_SK         (1u << 0)
#define EECD_CS         (1u << 1)
#define EECD_DI         (1u << 2)
#define EECD_DO         (1u << 3)
#define EECD_REQ        (1u << 6)
#define EECD_GNT        (1u << 7)
#define EECD_PRES       (1u << 8)
#define EERD_START      (1u << 0)
#define EERD_DONE       (1u << 4)

#define MDIC_OP_WRITE   (1u << 26)
#define MDIC_OP_READ    (2u << 26)
#define MDIC_READY      (1u << 28)
#define MDIC_IE         (1u << 29)
#define MDIC_ERROR      (1u << 30)

#define ICR_TXDW        (1u << 0)
#define ICR_TXQE        (1u << 1)
#define ICR_LSC         (1u << 2)
#define ICR_RXDMT0      (1u << 4)
#define ICR_RXO         (1u << 6)
#define ICR_RXT0        (1u << 7)
#define ICR_MDAC        (1u << 9)

#define RCTL_EN         (1u << 1)
#define RCTL_SBP        (1u << 2)
#define RCTL_UPE        (1u << 3)
#define RCTL_MPE        (1u << 4)
#define RCTL_LPE        (1u << 5)
#define RCTL_BAM        (1u << 15)
#define RCTL_VFE        (1u << 18)
#define RCTL_BSEX       (1u << 25)
#define RCTL_SECRC      (1u << 26)
#define TCTL_EN         (1u << 1)

#define RXD_STAT_DD     0x01
#define RXD_STAT_EOP    0x02
#define RXD_STAT_IXSM   0x04

#define TXD_CMD_EOP     (1u << 24)
#define TXD_CMD_RS      (1u << 27)
#define TXD_CMD_RPS     (1u << 28)
#define TXD_CMD_DEXT    (1u << 29)
#define TXD_CMD_TSE     (1u << 26)
#define TXD_DTYP_MASK   (0xfu << 20)
#define TXD_DTYP_D      (1u << 20)
#define TXD_POPTS_IXSM  0x01
#define TXD_POPTS_TXSM  0x02
#define TXD_STAT_DD     0x01
#define TUCMD_TCP       (1u << 24)
#define TUCMD_IP        (1u << 25)

/* PHY (Marvell 88E1011 as QEMU's 82540EM shows it) */
#define PHY_ADDR        1
#define PHY_CTRL        0x00
#define PHY_STATUS      0x01
#define PHY_ID1         0x02
#define PHY_ID2         0x03
#define PHY_AUTONEG_ADV 0x04
#define PHY_LP_ABILITY  0x05
#define PHY_AUTONEG_EXP 0x06
#define PHY_1000T_CTRL  0x09
#define PHY_1000T_STATUS 0x0a
#define PHY_EXT_STATUS  0x0f
#define M88_SPEC_CTRL   0x10
#define M88_SPEC_STATUS 0x11
#define M88_EXT_CTRL    0x14
#define PHY_REGS        0x20
#define MII_CR_RESET    (1u << 15)
#define MII_CR_RESTART_AN (1u << 9)
#define MII_SR_LINK     (1u << 2)
#define MII_SR_AN_DONE  (1u << 5)

#define EEPROM_WORDS    64
#define EEPROM_CHECKSUM 0xbaba
#define EEPROM_READ_OPCODE 6    /* start bit 1, then 10 */

#define MIN_FRAME       60
#define MAX_FRAME_STD   1522    /* with a VLAN tag, without FCS */
#define MAX_FRAME_LPE   16384
#define TX_MAX_PKT      (64 * 1024 + 256)
#define TSO_MAX_SEGMENTS 1024   /* per packet; the rest of a bigger one is dropped */

typedef struct E1000State {
    PCIDevice parent;
    MemoryRegion mmio, io;
    NetClientState *nc;
    NICConf conf;
    QEMUTimer *mit_timer;

    uint32_t mac[E1000_MMIO_SIZE / 4];
    uint16_t phy[PHY_REGS];
    uint16_t eeprom[EEPROM_WORDS];
    uint32_t ioaddr;
    /* Microwire state */
    uint32_t ee_bits_in, ee_nbits, ee_addr, ee_outpos;
    bool ee_reading;
    uint8_t ee_do;
    /* interrupt mitigation: a raise is waiting for the timer */
    bool mit_pending;
    /* TX context (from the last context descriptor) */
    uint8_t ipcss, ipcso, tucss, tucso;
    uint16_t ipcse, tucse;
    uint32_t paylen, tucmd;
    uint8_t hdr_len;
    uint16_t mss;
    /* the packet being assembled */
    uint8_t tx_buf[TX_MAX_PKT];
    uint32_t tx_size;
    uint8_t tx_popts;
    bool tx_tse;
    uint32_t tx_frames;         /* TSO segments sent of this packet */
    uint8_t tso_hdr[256];       /* the packet's header as the driver wrote it */
    uint8_t rx_buf[MAX_FRAME_LPE + 4];  /* a frame and its FCS (not migrated) */
    /* properties */
    char *netdev, *macstr;
    int32_t bootindex;
} E1000State;

#define R(s, reg) ((s)->mac[(reg) >> 2])

/* ---- DMA: guest RAM only ---------------------------------------------- */

static bool e1000_ram_ok(uint64_t addr, uint64_t len)
{
    return address_space_is_ram(&address_space_memory, addr, len);
}

static bool e1000_dma_read(E1000State *s, uint64_t addr, void *buf, uint64_t len)
{
    if (!(s->parent.config[PCI_COMMAND] & PCI_COMMAND_MASTER) || !e1000_ram_ok(addr, len)) {
        memset(buf, 0, len);
        qemu_log_mask(LOG_GUEST_ERROR, "e1000: DMA read of 0x%" G_GINT64_MODIFIER "x+%"
                      G_GINT64_MODIFIER "u outside RAM\n", addr, len);
        return false;
    }
    address_space_read(&address_space_memory, addr, buf, len);
    return true;
}

static bool e1000_dma_write(E1000State *s, uint64_t addr, const void *buf, uint64_t len)
{
    if (!(s->parent.config[PCI_COMMAND] & PCI_COMMAND_MASTER) || !e1000_ram_ok(addr, len)) {
        qemu_log_mask(LOG_GUEST_ERROR, "e1000: DMA write of 0x%" G_GINT64_MODIFIER "x+%"
                      G_GINT64_MODIFIER "u outside RAM\n", addr, len);
        return false;
    }
    address_space_write(&address_space_memory, addr, buf, len);
    return true;
}

static inline uint16_t ld16(const uint8_t *p) { return p[0] | p[1] << 8; }
static inline uint32_t ld32(const uint8_t *p) { return ld16(p) | (uint32_t)ld16(p + 2) << 16; }
static inline uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static inline uint16_t ldbe16(const uint8_t *p) { return p[0] << 8 | p[1]; }
static inline uint32_t ldbe32(const uint8_t *p) { return (uint32_t)ldbe16(p) << 16 | ldbe16(p + 2); }
static inline void stbe16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline void stbe32(uint8_t *p, uint32_t v) { stbe16(p, v >> 16); stbe16(p + 2, v); }

/* ---- interrupts ------------------------------------------------------- */

static void e1000_update_irq(E1000State *s)
{
    pci_set_irq(&s->parent, (R(s, ICR) & R(s, IMS)) != 0);
}

/* Raises INTA# for what ICR & IMS holds; with ITR set, an assertion
 * starts an interval in which the next one waits (as the hardware's
 * minimum inter-interrupt interval and QEMU's mitigation timer). */
static void e1000_raise(E1000State *s)
{
    e1000_update_irq(s);
    if ((R(s, ICR) & R(s, IMS)) && (R(s, ITR) & 0xffff)) {
        s->mit_pending = true;
        timer_mod(s->mit_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                                (int64_t)(R(s, ITR) & 0xffff) * 256);
    }
}

static void e1000_mit_fire(void *opaque)
{
    E1000State *s = opaque;

    s->mit_pending = false;
    e1000_raise(s);                     /* a held cause: its own interval too */
}

static void e1000_set_ics(E1000State *s, uint32_t cause)
{
    R(s, ICR) |= cause;
    if (!(R(s, ICR) & R(s, IMS))) {
        e1000_update_irq(s);
        return;
    }
    if (s->mit_pending) {
        return;                         /* the timer will raise it */
    }
    e1000_raise(s);
}

/* ---- link ------------------------------------------------------------- */

static void e1000_link_set(E1000State *s, bool up)
{
    uint32_t old = R(s, STATUS);

    if (up) {
        R(s, STATUS) |= STATUS_LU;
        s->phy[PHY_STATUS] |= MII_SR_LINK | MII_SR_AN_DONE;
        s->phy[PHY_LP_ABILITY] |= 0x4000;       /* link partner ack */
    } else {
        R(s, STATUS) &= ~STATUS_LU;
        s->phy[PHY_STATUS] &= ~(MII_SR_LINK | MII_SR_AN_DONE);
        s->phy[PHY_LP_ABILITY] &= ~0x4000;
    }
    if (old != R(s, STATUS)) {
        e1000_set_ics(s, ICR_LSC);
    }
}

static void e1000_link_status_changed(NetClientState *nc)
{
    E1000State *s = nc->opaque;

    e1000_link_set(s, !nc->link_down);
}

/* ---- EEPROM ----------------------------------------------------------- */

static void e1000_eeprom_init(E1000State *s)
{
    uint16_t sum = 0;

    memset(s->eeprom, 0xff, sizeof(s->eeprom));
    for (int i = 0; i < 3; i++) {
        s->eeprom[i] = s->conf.macaddr.a[2 * i] | s->conf.macaddr.a[2 * i + 1] << 8;
    }
    s->eeprom[0x03] = 0x0000;           /* compatibility */
    s->eeprom[0x04] = 0xffff;
    s->eeprom[0x08] = 0x0000;           /* PBA number */
    s->eeprom[0x09] = 0x0000;
    s->eeprom[0x0a] = 0x640b;           /* init control 1 */
    s->eeprom[0x0b] = 0x100e;           /* subsystem id */
    s->eeprom[0x0c] = 0x8086;           /* subsystem vendor */
    s->eeprom[0x0d] = 0x100e;           /* device id */
    s->eeprom[0x0e] = 0x8086;           /* vendor id */
    s->eeprom[0x0f] = 0x3040;           /* init control 2: pause capable */
    s->eeprom[0x14] = 0x0000;           /* init control 3 port A: no WoL */
    for (int i = 0; i < EEPROM_WORDS - 1; i++) {
        sum += s->eeprom[i];
    }
    s->eeprom[EEPROM_WORDS - 1] = EEPROM_CHECKSUM - sum;
}

static void e1000_eecd_write(E1000State *s, uint32_t v)
{
    uint32_t old = R(s, EECD);

    /* the software-controlled bits and the request; GNT follows REQ */
    R(s, EECD) = (v & (EECD_SK | EECD_CS | EECD_DI | EECD_REQ)) | EECD_PRES |
                 (v & EECD_REQ ? EECD_GNT : 0);
    if (!(v & EECD_CS)) {
        s->ee_nbits = 0;
        s->ee_bits_in = 0;
        s->ee_reading = false;
        s->ee_do = 1;
        return;
    }
    if (!(v & EECD_SK) || (old & EECD_SK)) {
        return;                         /* act on the rising edge of SK */
    }
    if (s->ee_reading) {
        s->ee_do = (s->eeprom[s->ee_addr] >> (15 - s->ee_outpos)) & 1;
        if (++s->ee_outpos == 16) {
            s->ee_outpos = 0;
            s->ee_addr = (s->ee_addr + 1) % EEPROM_WORDS;       /* sequential read */
        }
        return;
    }
    if (s->ee_nbits >= 9) {
        return;                         /* writes and erases are ignored */
    }
    s->ee_bits_in = (s->ee_bits_in << 1) | !!(v & EECD_DI);
    s->ee_nbits++;
    if (s->ee_nbits == 1 && !s->ee_bits_in) {
        s->ee_nbits = 0;                /* waiting for the start bit */
    } else if (s->ee_nbits == 9 && (s->ee_bits_in >> 6) == EEPROM_READ_OPCODE) {
        s->ee_reading = true;
        s->ee_addr = s->ee_bits_in & (EEPROM_WORDS - 1);
        s->ee_outpos = 0;
        s->ee_do = 0;                   /* the dummy zero before the data */
    }
}

static uint32_t e1000_eecd_read(E1000State *s)
{
    return (R(s, EECD) & ~EECD_DO) | (s->ee_do ? EECD_DO : 0);
}

static void e1000_eerd_write(E1000State *s, uint32_t v)
{
    uint32_t addr = (v >> 8) & 0xff;

    if (!(v & EERD_START)) {
        R(s, EERD) = v & ~EERD_DONE;
        return;
    }
    R(s, EERD) = (addr << 8) | EERD_DONE;
    if (addr < EEPROM_WORDS) {
        R(s, EERD) |= (uint32_t)s->eeprom[addr] << 16;
    }
}

/* ---- PHY -------------------------------------------------------------- */

static void e1000_phy_reset(E1000State *s)
{
    memset(s->phy, 0, sizeof(s->phy));
    s->phy[PHY_CTRL] = 0x1140;                  /* autoneg on, full duplex, 1000 */
    s->phy[PHY_STATUS] = 0x7949;                /* capabilities; link bits below */
    s->phy[PHY_ID1] = 0x0141;
    s->phy[PHY_ID2] = 0x0c20;
    s->phy[PHY_AUTONEG_ADV] = 0x0de1;
    s->phy[PHY_LP_ABILITY] = 0x01e1;
    s->phy[PHY_AUTONEG_EXP] = 0x0001;
    s->phy[PHY_1000T_CTRL] = 0x0e00;
    s->phy[PHY_1000T_STATUS] = 0x3c00;
    s->phy[PHY_EXT_STATUS] = 0x3000;
    s->phy[M88_SPEC_CTRL] = 0x0360;
    s->phy[M88_SPEC_STATUS] = 0xac00;
    s->phy[M88_EXT_CTRL] = 0x0d60;
    if (!s->nc || !s->nc->link_down) {
        s->phy[PHY_STATUS] |= MII_SR_LINK | MII_SR_AN_DONE;
        s->phy[PHY_LP_ABILITY] |= 0x4000;
    }
}

static void e1000_mdic_write(E1000State *s, uint32_t v)
{
    uint32_t reg = (v >> 16) & 0x1f, phy = (v >> 21) & 0x1f;
    uint32_t data = v & 0xffff;
    uint32_t op = v & (3u << 26);

    if (phy != PHY_ADDR) {
        v |= MDIC_ERROR;
    } else if (op == MDIC_OP_READ) {
        data = s->phy[reg];
    } else if (op == MDIC_OP_WRITE) {
        switch (reg) {
        case PHY_CTRL:
            s->phy[PHY_CTRL] = data & ~(MII_CR_RESET | MII_CR_RESTART_AN);
            if ((data & MII_CR_RESTART_AN) && !(s->nc && s->nc->link_down)) {
                /* autonegotiation completes at once */
                e1000_link_set(s, true);
            }
            break;
        case PHY_STATUS: case PHY_ID1: case PHY_ID2: case PHY_LP_ABILITY:
        case PHY_AUTONEG_EXP: case PHY_1000T_STATUS: case PHY_EXT_STATUS:
        case M88_SPEC_STATUS:
            break;                      /* read-only */
        default:
            s->phy[reg] = data;
        }
    } else {
        v |= MDIC_ERROR;
    }
    R(s, MDIC) = (v & ~0xffffu) | data | MDIC_READY;
    if (v & MDIC_IE) {
        e1000_set_ics(s, ICR_MDAC);
    }
}

/* ---- receive ---------------------------------------------------------- */

static uint32_t e1000_rx_bufsize(uint32_t rctl)
{
    uint32_t bsize = (rctl >> 16) & 3;

    if (rctl & RCTL_BSEX) {
        return bsize == 1 ? 16384 : bsize == 2 ? 8192 : bsize == 3 ? 4096 : 2048;
    }
    return bsize == 0 ? 2048 : bsize == 1 ? 1024 : bsize == 2 ? 512 : 256;
}

static uint32_t e1000_rx_ring_len(E1000State *s)
{
    return R(s, RDLEN) / 16;
}

/* Descriptors the guest has handed over: from RDH up to RDT. */
static uint32_t e1000_rx_free(E1000State *s)
{
    uint32_t n = e1000_rx_ring_len(s), h = R(s, RDH), t = R(s, RDT);

    if (!n || h >= n || t >= n) {
        return 0;
    }
    return t >= h ? t - h : n - h + t;
}

static bool e1000_can_receive(NetClientState *nc)
{
    E1000State *s = nc->opaque;

    return (R(s, STATUS) & STATUS_LU) && (R(s, RCTL) & RCTL_EN) &&
           (s->parent.config[PCI_COMMAND] & PCI_COMMAND_MASTER) && e1000_rx_free(s) > 0;
}

static bool e1000_mta_match(E1000State *s, const uint8_t *da)
{
    static const int shift[4] = { 4, 3, 2, 0 };
    int mo = (R(s, RCTL) >> 12) & 3;
    uint32_t hash = ((da[4] >> shift[mo]) | (uint32_t)da[5] << (8 - shift[mo])) & 0xfff;

    return (s->mac[(MTA >> 2) + (hash >> 5)] >> (hash & 31)) & 1;
}

static bool e1000_accept(E1000State *s, const uint8_t *da)
{
    uint32_t rctl = R(s, RCTL);
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    if (!memcmp(da, bcast, 6)) {
        return rctl & (RCTL_BAM | RCTL_MPE | RCTL_UPE);
    }
    if (rctl & ((da[0] & 1) ? (RCTL_MPE | RCTL_UPE) : RCTL_UPE)) {
        return true;
    }
    /* The exact filters hold multicast addresses too: Linux's e1000 puts
     * its first 14 multicast groups there (33:33:00:00:00:01 for IPv6's
     * router advertisements) and hashes only the rest into the MTA. */
    for (int i = 0; i < 16; i++) {
        uint32_t lo = s->mac[(RA >> 2) + 2 * i], hi = s->mac[(RA >> 2) + 2 * i + 1];
        uint8_t ra[6] = { lo, lo >> 8, lo >> 16, lo >> 24, hi, hi >> 8 };
        if ((hi & (1u << 31)) && !memcmp(da, ra, 6)) {
            return true;
        }
    }
    return (da[0] & 1) && e1000_mta_match(s, da);
}

static void e1000_stat_add64(E1000State *s, uint32_t lo_reg, uint64_t v)
{
    uint64_t cur = R(s, lo_reg) | (uint64_t)R(s, lo_reg + 4) << 32;

    cur += v;
    R(s, lo_reg) = cur;
    R(s, lo_reg + 4) = cur >> 32;
}

static void e1000_stat_inc(E1000State *s, uint32_t reg)
{
    if (R(s, reg) != 0xffffffffu) {
        R(s, reg)++;
    }
}

static ssize_t e1000_receive(NetClientState *nc, const uint8_t *data, size_t size)
{
    E1000State *s = nc->opaque;
    uint8_t minbuf[MIN_FRAME];
    uint32_t bufsize = e1000_rx_bufsize(R(s, RCTL));
    uint32_t n = e1000_rx_ring_len(s), needed, done = 0, free_before;
    uint32_t rdmts;

    if (!(R(s, RCTL) & RCTL_EN) || !(R(s, STATUS) & STATUS_LU)) {
        return size;
    }
    if (size < MIN_FRAME) {
        memset(minbuf, 0, sizeof(minbuf));
        memcpy(minbuf, data, size);
        data = minbuf;
        size = MIN_FRAME;
    }
    if (size > ((R(s, RCTL) & (RCTL_LPE | RCTL_SBP)) ? MAX_FRAME_LPE : MAX_FRAME_STD)) {
        return size;                    /* oversized: dropped as QEMU does */
    }
    if (!e1000_accept(s, data)) {
        return size;
    }
    /* The 82540 stores the 4-byte FCS after the frame (Linux's e1000
     * strips it) unless RCTL.SECRC; as QEMU, its bytes are zero here. */
    memcpy(s->rx_buf, data, size);
    if (!(R(s, RCTL) & RCTL_SECRC)) {
        memset(s->rx_buf + size, 0, 4);
        size += 4;
    }
    data = s->rx_buf;
    needed = (size + bufsize - 1) / bufsize;
    free_before = e1000_rx_free(s);
    if (free_before < needed) {
        /* not enough descriptors for the whole frame: overrun */
        e1000_stat_inc(s, RNBC);
        e1000_stat_inc(s, MPC);
        e1000_set_ics(s, ICR_RXO);
        return size;
    }
    while (done < size) {
        uint64_t daddr = ((uint64_t)R(s, RDBAH) << 32 | R(s, RDBAL)) + (uint64_t)R(s, RDH) * 16;
        uint8_t desc[16];
        uint32_t chunk = MIN(bufsize, size - done);
        uint64_t baddr;

        e1000_dma_read(s, daddr, desc, 16);
        baddr = ld64(desc);
        if (baddr) {
            e1000_dma_write(s, baddr, data + done, chunk);
        }
        done += chunk;
        desc[8] = chunk;
        desc[9] = chunk >> 8;
        desc[10] = desc[11] = 0;        /* checksum */
        desc[12] = RXD_STAT_DD | RXD_STAT_IXSM | (done == size ? RXD_STAT_EOP : 0);
        desc[13] = 0;                   /* errors */
        desc[14] = desc[15] = 0;
        e1000_dma_write(s, daddr + 8, desc + 8, 8);
        R(s, RDH) = (R(s, RDH) + 1) % n;
    }
    e1000_stat_inc(s, GPRC);
    e1000_stat_inc(s, TPR);
    if (data[0] & 1) {
        e1000_stat_inc(s, memcmp(data, "\xff\xff\xff\xff\xff\xff", 6) ? MPRC : BPRC);
    }
    e1000_stat_add64(s, GORCL, size);
    e1000_stat_add64(s, TORL, size);
    /* fewer free descriptors left than the threshold (1/2, 1/4, 1/8)? */
    rdmts = (R(s, RCTL) >> 8) & 3;
    if (rdmts < 3 && e1000_rx_free(s) <= (n >> (rdmts + 1))) {
        e1000_set_ics(s, ICR_RXT0 | ICR_RXDMT0);
    } else {
        e1000_set_ics(s, ICR_RXT0);
    }
    return size;
}

/* ---- transmit --------------------------------------------------------- */

/* One's complement sum of [start, end] (inclusive; end 0 = the last byte)
 * stored at off, as the checksum offload fields say. */
static void e1000_insert_csum(uint8_t *p, uint32_t size, uint32_t start, uint32_t off,
                              uint32_t end)
{
    uint32_t sum = 0;

    if (!size) {
        return;
    }
    if (!end || end >= size) {
        end = size - 1;
    }
    if (start > end || off + 2 > size) {
        return;
    }
    for (uint32_t i = start; i <= end; i += 2) {
        sum += i + 1 <= end ? ldbe16(p + i) : (uint32_t)p[i] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    stbe16(p + off, ~sum);
}

static void e1000_send_frame(E1000State *s, uint8_t *buf, uint32_t size)
{
    if (size == 0) {
        return;
    }
    e1000_stat_inc(s, GPTC);
    e1000_stat_inc(s, TPT);
    if (buf[0] & 1) {
        e1000_stat_inc(s, memcmp(buf, "\xff\xff\xff\xff\xff\xff", 6) ? MPTC : BPTC);
    }
    e1000_stat_add64(s, GOTCL, size + 4);
    e1000_stat_add64(s, TOTL, size + 4);
    if (((R(s, RCTL) >> 6) & 3) == 3) {
        return;                         /* loopback mode: not modelled, dropped */
    }
    qemu_send_packet(s->nc, buf, size);
}

/* Emits tx_buf as one TSO segment (last: the packet's final one). */
static void e1000_tso_segment(E1000State *s, bool last)
{
    uint8_t *p = s->tx_buf;
    uint32_t size = s->tx_size;

    if (s->tx_frames == 0) {
        memcpy(s->tso_hdr, p, MIN(s->hdr_len, size));
    }
    if (s->ipcss + 6u <= size && s->hdr_len <= size) {
        if (s->tucmd & TUCMD_IP) {      /* IPv4: total length, id */
            stbe16(p + s->ipcss + 2, size - s->ipcss);
            stbe16(p + s->ipcss + 4, ldbe16(p + s->ipcss + 4) + s->tx_frames);
        } else {                        /* IPv6: payload length */
            stbe16(p + s->ipcss + 4, size - s->ipcss - 40);
        }
    }
    if (s->tucss + 16u <= size) {
        if (s->tucmd & TUCMD_TCP) {
            uint32_t seq = ldbe32(p + s->tucss + 4) + s->tx_frames * s->mss;
            stbe32(p + s->tucss + 4, seq);
            if (!last) {
                p[s->tucss + 13] &= ~0x09;      /* FIN, PSH only on the last */
            }
        } else {
            stbe16(p + s->tucss + 4, size - s->tucss);  /* UDP length */
        }
    }
    if ((s->tx_popts & TXD_POPTS_TXSM) && s->tucso + 2u <= size && s->tucss < size) {
        /* the stored pseudo-header sum lacks the length: add it */
        uint32_t sum = ldbe16(p + s->tucso) + (size - s->tucss);
        sum = (sum & 0xffff) + (sum >> 16);
        stbe16(p + s->tucso, sum);
        e1000_insert_csum(p, size, s->tucss, s->tucso, 0);
    }
    if (s->tx_popts & TXD_POPTS_IXSM) {
        e1000_insert_csum(p, size, s->ipcss, s->ipcso, s->ipcse);
    }
    e1000_send_frame(s, p, size);
    s->tx_frames++;
    /* the next segment starts from the original header */
    s->tx_size = MIN(s->hdr_len, s->tx_size);
    memcpy(p, s->tso_hdr, s->tx_size);
}

static void e1000_tx_data(E1000State *s, uint64_t addr, uint32_t len)
{
    if (s->tx_tse && s->hdr_len && s->mss) {
        while (len) {
            uint32_t seg = (uint32_t)s->hdr_len + s->mss, room, n;
            if (s->tx_frames >= TSO_MAX_SEGMENTS) {
                return;                 /* a 64 KiB packet at Linux's smallest MSS is ~750 */
            }
            if (s->tx_size >= seg) {
                /* the context changed under a packet: send what we have */
                e1000_tso_segment(s, false);
                continue;
            }
            room = seg - s->tx_size;    /* seg <= 255 + 65535 < sizeof(tx_buf) */
            n = MIN(room, len);
            e1000_dma_read(s, addr, s->tx_buf + s->tx_size, n);
            s->tx_size += n;
            addr += n;
            len -= n;
            if (s->tx_size == (uint32_t)s->hdr_len + s->mss) {
                e1000_tso_segment(s, false);
            }
        }
        return;
    }
    if (s->tx_size + len > sizeof(s->tx_buf)) {
        qemu_log_mask(LOG_GUEST_ERROR, "e1000: packet larger than %zu bytes, truncated\n",
                      sizeof(s->tx_buf));
        len = sizeof(s->tx_buf) - s->tx_size;
    }
    e1000_dma_read(s, addr, s->tx_buf + s->tx_size, len);
    s->tx_size += len;
}

static void e1000_tx_end(E1000State *s)
{
    if (s->tx_tse && s->hdr_len && s->mss) {
        if (s->tx_size > s->hdr_len || s->tx_frames == 0) {
            e1000_tso_segment(s, true);
        }
    } else {
        if (s->tx_popts & TXD_POPTS_TXSM) {
            e1000_insert_csum(s->tx_buf, s->tx_size, s->tucss, s->tucso, s->tucse);
        }
        if (s->tx_popts & TXD_POPTS_IXSM) {
            e1000_insert_csum(s->tx_buf, s->tx_size, s->ipcss, s->ipcso, s->ipcse);
        }
        e1000_send_frame(s, s->tx_buf, s->tx_size);
    }
    s->tx_size = 0;
    s->tx_frames = 0;
    s->tx_tse = false;
    s->tx_popts = 0;
}

/* One descriptor; returns whether it asks for a status write-back. */
static bool e1000_tx_desc(E1000State *s, const uint8_t *d)
{
    uint64_t addr = ld64(d);
    uint32_t lower = ld32(d + 8), upper = ld32(d + 12);

    if ((lower & TXD_CMD_DEXT) && !(lower & TXD_DTYP_MASK)) {
        /* context descriptor */
        s->ipcss = d[0];
        s->ipcso = d[1];
        s->ipcse = ld16(d + 2);
        s->tucss = d[4];
        s->tucso = d[5];
        s->tucse = ld16(d + 6);
        s->paylen = lower & 0xfffff;
        s->tucmd = lower & 0xff000000u;
        s->hdr_len = d[13];
        s->mss = ld16(d + 14);
    } else if (lower & TXD_CMD_DEXT) {
        /* data descriptor */
        if (s->tx_size == 0 && s->tx_frames == 0) {
            s->tx_popts = upper >> 8;
            s->tx_tse = lower & TXD_CMD_TSE;
        }
        e1000_tx_data(s, addr, lower & 0xfffff);
        if (lower & TXD_CMD_EOP) {
            e1000_tx_end(s);
        }
    } else {
        /* legacy: length 15:0, CSO 23:16, CSS in the upper dword 23:16 */
        uint32_t len = lower & 0xffff, cso = (lower >> 16) & 0xff, css = (upper >> 16) & 0xff;
        s->tx_tse = false;
        e1000_tx_data(s, addr, len);
        if (lower & TXD_CMD_EOP) {
            if (lower & (1u << 26)) {   /* IC: insert checksum */
                e1000_insert_csum(s->tx_buf, s->tx_size, css, cso, 0);
            }
            s->tx_popts = 0;
            e1000_send_frame(s, s->tx_buf, s->tx_size);
            s->tx_size = 0;
        }
    }
    return lower & (TXD_CMD_RS | TXD_CMD_RPS);
}

static void e1000_start_xmit(E1000State *s)
{
    uint32_t n = R(s, TDLEN) / 16, cause = ICR_TXQE;

    if (!(R(s, TCTL) & TCTL_EN) || !n) {
        return;
    }
    if (R(s, TDH) >= n) {
        R(s, TDH) = 0;
    }
    /* at most one lap: a tail outside the ring cannot keep us here */
    for (uint32_t i = 0; i < n && R(s, TDH) != R(s, TDT); i++) {
        uint64_t daddr = ((uint64_t)R(s, TDBAH) << 32 | R(s, TDBAL)) + (uint64_t)R(s, TDH) * 16;
        uint8_t d[16];

        e1000_dma_read(s, daddr, d, 16);
        if (e1000_tx_desc(s, d)) {
            uint8_t sta = d[12] | TXD_STAT_DD;
            e1000_dma_write(s, daddr + 12, &sta, 1);
            cause |= ICR_TXDW;
        }
        R(s, TDH) = (R(s, TDH) + 1) % n;
    }
    e1000_set_ics(s, cause);
}

/* ---- registers -------------------------------------------------------- */

static void e1000_reset_regs(E1000State *s)
{
    memset(s->mac, 0, sizeof(s->mac));
    R(s, CTRL) = CTRL_SLU | (2u << 8) /* speed 1000 */;
    R(s, STATUS) = STATUS_FD | STATUS_SPEED_1000;
    R(s, EECD) = EECD_PRES;
    R(s, PBA) = 0x00100030;
    R(s, LEDCTL) = 0x0602;
    R(s, MANC) = 0;
    s->mac[RA >> 2] = ld32(s->conf.macaddr.a);
    s->mac[(RA >> 2) + 1] = ld16(s->conf.macaddr.a + 4) | (1u << 31);
    e1000_phy_reset(s);
    if (!s->nc || !s->nc->link_down) {
        R(s, STATUS) |= STATUS_LU;
    }
    s->ee_nbits = s->ee_bits_in = 0;
    s->ee_reading = false;
    s->ee_do = 1;
    s->tx_size = s->tx_frames = 0;
    s->tx_tse = false;
    s->tx_popts = 0;
    s->mit_pending = false;
    if (s->mit_timer) {
        timer_del(s->mit_timer);
    }
}

static bool e1000_plain_reg(uint32_t addr)
{
    static const uint16_t regs[] = {
        CTRL_EXT, FCAL, FCAH, FCT, VET, ITR, FCTTV, TXCW, RXCW, TCTL, TIPG, LEDCTL, PBA,
        FCRTL, FCRTH, RDBAL, RDBAH, RDTR, RADV, RSRPD, TDBAL, TDBAH, TIDV, TXDCTL, TADV,
        RXCSUM, WUC, WUFC, MANC,
    };

    if ((addr >= MTA && addr < MTA_END) || (addr >= RA && addr < RA_END) ||
        (addr >= VFTA && addr < VFTA_END)) {
        return true;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(regs); i++) {
        if (regs[i] == addr) {
            return true;
        }
    }
    return false;
}

static uint32_t e1000_reg_read(E1000State *s, uint32_t addr)
{
    uint32_t v;

    addr &= ~3u;
    switch (addr) {
    case CTRL: case STATUS: case EERD: case MDIC: case RCTL: case IMS:
    case RDLEN: case RDH: case RDT: case TDLEN: case TDH: case TDT:
        return R(s, addr);
    case EECD:
        return e1000_eecd_read(s);
    case ICR:
        v = R(s, ICR);
        R(s, ICR) = 0;
        e1000_update_irq(s);
        return v;
    case ICS: case IMC:
        return 0;                       /* write-only */
    }
    if (addr >= STATS_START && addr < STATS_END) {
        v = R(s, addr);
        R(s, addr) = 0;
        if (addr == GORCH || addr == GOTCH || addr == TORH || addr == TOTH) {
            R(s, addr - 4) = 0;
        }
        return v;
    }
    if (e1000_plain_reg(addr)) {
        return R(s, addr);
    }
    qemu_log_mask(LOG_UNIMP, "e1000: read of unknown register 0x%05x\n", addr);
    return 0;
}

static void e1000_reg_write(E1000State *s, uint32_t addr, uint32_t v)
{
    addr &= ~3u;
    switch (addr) {
    case CTRL:
        if (v & CTRL_RST) {
            e1000_reset_regs(s);
            e1000_update_irq(s);
            return;
        }
        if (v & CTRL_PHY_RST) {
            e1000_phy_reset(s);
        }
        R(s, CTRL) = v & ~(CTRL_RST | CTRL_PHY_RST);
        return;
    case STATUS:
        return;                         /* read-only */
    case EECD:
        e1000_eecd_write(s, v);
        return;
    case EERD:
        e1000_eerd_write(s, v);
        return;
    case MDIC:
        e1000_mdic_write(s, v);
        return;
    case ICR:
        R(s, ICR) &= ~v;                /* write 1 to clear, as QEMU */
        e1000_update_irq(s);
        return;
    case ICS:
        e1000_set_ics(s, v);
        return;
    case IMS:
        R(s, IMS) |= v;
        e1000_update_irq(s);
        return;
    case IMC:
        R(s, IMS) &= ~v;
        e1000_update_irq(s);
        return;
    case RCTL:
        if ((R(s, RCTL) ^ v) & (RCTL_UPE | RCTL_MPE | RCTL_BAM | RCTL_VFE)) {
            qemu_nic_rx_filter_changed(s->nc);
        }
        R(s, RCTL) = v;
        qemu_flush_queued_packets(s->nc);
        return;
    case RDLEN: case TDLEN:
        R(s, addr) = v & 0xfff80;
        return;
    case RDH: case TDH:
        R(s, addr) = v & 0xffff;
        return;
    case RDT:
        R(s, RDT) = v & 0xffff;
        qemu_flush_queued_packets(s->nc);
        return;
    case TDT:
        R(s, TDT) = v & 0xffff;
        e1000_start_xmit(s);
        return;
    case TCTL:
        R(s, TCTL) = v;
        e1000_start_xmit(s);
        return;
    case ITR:
        R(s, ITR) = v & 0xffff;
        return;
    }
    if (addr >= STATS_START && addr < STATS_END) {
        return;                         /* read-only counters */
    }
    if (e1000_plain_reg(addr)) {
        if (R(s, addr) != v && ((addr >= MTA && addr < MTA_END) || (addr >= RA && addr < RA_END))) {
            qemu_nic_rx_filter_changed(s->nc);
        }
        R(s, addr) = v;
        return;
    }
    qemu_log_mask(LOG_UNIMP, "e1000: write of 0x%x to unknown register 0x%05x\n", v, addr);
}

static uint64_t e1000_mmio_read(void *opaque, uint64_t addr, unsigned size)
{
    (void)size;
    return e1000_reg_read(opaque, addr);
}

static void e1000_mmio_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    (void)size;
    e1000_reg_write(opaque, addr, v);
}

static const MemoryRegionOps e1000_mmio_ops = {
    .read = e1000_mmio_read,
    .write = e1000_mmio_write,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static uint64_t e1000_io_read(void *opaque, uint64_t addr, unsigned size)
{
    E1000State *s = opaque;

    (void)size;
    switch (addr) {
    case 0:
        return s->ioaddr;
    case 4:
        return s->ioaddr < E1000_MMIO_SIZE ? e1000_reg_read(s, s->ioaddr) : 0;
    }
    return 0;
}

static void e1000_io_write(void *opaque, uint64_t addr, uint64_t v, unsigned size)
{
    E1000State *s = opaque;

    (void)size;
    if (addr == 0) {
        s->ioaddr = v & (E1000_MMIO_SIZE - 1) & ~3u;
    } else if (addr == 4) {
        e1000_reg_write(s, s->ioaddr, v);
    }
}

static const MemoryRegionOps e1000_io_ops = {
    .read = e1000_io_read,
    .write = e1000_io_write,
    .valid = { .min_access_size = 4, .max_access_size = 4 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* ---- the device ------------------------------------------------------- */

static void e1000_query_rx_filter(NetClientState *nc, NetRxFilter *f)
{
    E1000State *s = nc->opaque;
    uint32_t lo = s->mac[RA >> 2], hi = s->mac[(RA >> 2) + 1];
    uint8_t m[6] = { lo, lo >> 8, lo >> 16, lo >> 24, hi, hi >> 8 };

    f->promiscuous = R(s, RCTL) & RCTL_UPE;
    f->multicast_all = R(s, RCTL) & RCTL_MPE;
    f->broadcast_allowed = R(s, RCTL) & RCTL_BAM;
    f->vlan_filter = R(s, RCTL) & RCTL_VFE;
    memcpy(f->main_mac.a, m, 6);
}

static const NetClientInfo e1000_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .type_name = "nic",
    .size = sizeof(NetClientState),
    .receive = e1000_receive,
    .can_receive = e1000_can_receive,
    .link_status_changed = e1000_link_status_changed,
    .query_rx_filter = e1000_query_rx_filter,
};

static void e1000_realize(PCIDevice *d, Error **errp)
{
    E1000State *s = (E1000State *)d;
    const char *id = d->qdev.id;

    if (s->macstr && !net_parse_macaddr(&s->conf.macaddr, s->macstr)) {
        error_setg(errp, "Property 'e1000.mac' doesn't take value '%s'", s->macstr);
        return;
    }
    if (s->netdev) {
        s->conf.peer = qemu_find_netdev(s->netdev);
        if (!s->conf.peer) {
            error_setg(errp, "Property 'e1000.netdev' can't find value '%s'", s->netdev);
            return;
        }
        if (s->conf.peer->peer) {
            error_setg(errp, "Property 'e1000.netdev' can't take value '%s', it's in use",
                       s->netdev);
            return;
        }
    }
    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    d->config[PCI_INTERRUPT_PIN] = 1;
    memory_region_init_io(&s->mmio, &e1000_mmio_ops, s, "e1000-mmio", E1000_MMIO_SIZE);
    memory_region_init_io(&s->io, &e1000_io_ops, s, "e1000-io", E1000_IO_SIZE);
    pci_register_bar(d, 0, 0, &s->mmio);
    pci_register_bar(d, 1, PCI_BASE_ADDRESS_SPACE_IO, &s->io);
    e1000_eeprom_init(s);
    s->mit_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, e1000_mit_fire, s);
    s->nc = qemu_new_nic(&e1000_net_info, &s->conf, "e1000", id, s);
    e1000_reset_regs(s);
}

static void e1000_exit(PCIDevice *d)
{
    E1000State *s = (E1000State *)d;

    qemu_del_net_client(s->nc);
    s->nc = NULL;
    timer_free(s->mit_timer);
    s->mit_timer = NULL;
}

static void e1000_reset(PCIDevice *d)
{
    E1000State *s = (E1000State *)d;

    e1000_reset_regs(s);
    e1000_update_irq(s);
}

static int e1000_post_load(void *opaque, int version_id)
{
    E1000State *s = opaque;

    (void)version_id;
    s->mit_pending = false;
    if (s->nc) {
        s->nc->link_down = !(R(s, STATUS) & STATUS_LU);
        qemu_flush_queued_packets(s->nc);
    }
    if (s->tx_size > sizeof(s->tx_buf)) {
        s->tx_size = 0;
    }
    if (s->ee_addr >= EEPROM_WORDS) {
        s->ee_addr = 0;
    }
    s->ee_outpos &= 15;
    return 0;
}

static const VMStateField e1000_fields[] = {
    VMSTATE_PCI_DEVICE(parent, E1000State),
    VMSTATE_UINT32_ARRAY(mac, E1000State, E1000_MMIO_SIZE / 4),
    VMSTATE_UINT16_ARRAY(phy, E1000State, PHY_REGS),
    VMSTATE_UINT16_ARRAY(eeprom, E1000State, EEPROM_WORDS),
    VMSTATE_UINT32(ioaddr, E1000State),
    VMSTATE_UINT32(ee_bits_in, E1000State),
    VMSTATE_UINT32(ee_nbits, E1000State),
    VMSTATE_UINT32(ee_addr, E1000State),
    VMSTATE_UINT32(ee_outpos, E1000State),
    VMSTATE_BOOL(ee_reading, E1000State),
    VMSTATE_UINT8(ee_do, E1000State),
    VMSTATE_UINT8(ipcss, E1000State),
    VMSTATE_UINT8(ipcso, E1000State),
    VMSTATE_UINT16(ipcse, E1000State),
    VMSTATE_UINT8(tucss, E1000State),
    VMSTATE_UINT8(tucso, E1000State),
    VMSTATE_UINT16(tucse, E1000State),
    VMSTATE_UINT32(paylen, E1000State),
    VMSTATE_UINT32(tucmd, E1000State),
    VMSTATE_UINT8(hdr_len, E1000State),
    VMSTATE_UINT16(mss, E1000State),
    VMSTATE_UINT8_ARRAY(tx_buf, E1000State, TX_MAX_PKT),
    VMSTATE_UINT8_ARRAY(tso_hdr, E1000State, 256),
    VMSTATE_UINT32(tx_size, E1000State),
    VMSTATE_UINT8(tx_popts, E1000State),
    VMSTATE_BOOL(tx_tse, E1000State),
    VMSTATE_UINT32(tx_frames, E1000State),
    VMSTATE_END_OF_LIST()
};

static const VMStateDescription vmstate_e1000 = {
    .name = "e1000",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = e1000_fields,
    .post_load = e1000_post_load,
};

static const Property e1000_props[] = {
    DEFINE_PCI_DEVICE_PROPERTIES(),
    DEFINE_PROP_STRING("netdev", E1000State, netdev),
    DEFINE_PROP_STRING("mac", E1000State, macstr),
    DEFINE_PROP_INT32("bootindex", E1000State, bootindex, -1),
    DEFINE_PROP_END_OF_LIST(),
};

/* bootindex=: QEMU's firmware path for a NIC, matched by SeaBIOS to the
 * boot entry of the iPXE ROM (romfile=, efi-e1000.rom by default). */
static void e1000_describe(DeviceState *ds, PlatformDesc *pd)
{
    E1000State *s = (E1000State *)ds;
    PCIDevice *d = &s->parent;
    g_autofree char *path = NULL;

    if (s->bootindex < 0 || !d->bus) {
        return;
    }
    path = PCI_FUNC(d->devfn)
           ? g_strdup_printf("/pci@i0cf8/ethernet@%x,%x/ethernet-phy@0", PCI_SLOT(d->devfn),
                             PCI_FUNC(d->devfn))
           : g_strdup_printf("/pci@i0cf8/ethernet@%x/ethernet-phy@0", PCI_SLOT(d->devfn));
    platform_add_boot_entry(pd, s->bootindex, path);
}

static const PCIDeviceClass e1000_class = {
    PCI_DEVICE_CLASS_INIT("e1000", "Intel Gigabit Ethernet", E1000State, e1000_props,
                          .category = DEVICE_CATEGORY_NETWORK, .vmsd = &vmstate_e1000,
                          .describe = e1000_describe),
    .vendor_id = 0x8086,
    .device_id = 0x100e,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .revision = 3,
    .class_id = 0x0200,
    .realize = e1000_realize,
    .exit = e1000_exit,
    .reset = e1000_reset,
    .romfile = "efi-e1000.rom",
};

PCI_DEVICE_CLASS_REGISTER(e1000_class)

